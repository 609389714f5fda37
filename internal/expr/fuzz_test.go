package expr

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// FuzzCompile compiles arbitrary expressions and evaluates those that
// compile on a fixed event: neither step may panic, and Bool must agree
// with Run on boolean results.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`level == "error" && status >= 500`,
		`http.status in 500..599`,
		`$env["user-agent"] contains "curl"`,
		`message matches "time(out)?"`,
		`let x = status; x * 2 > 10`,
		`cidr(ip, "10.0.0.0/8") || num(bytes) > 1`,
		`keys($env)`,
		`status >>> 500`,
	} {
		f.Add(s)
	}
	e := testEvent(f2("level", event.String("error")), f2("status", event.String("503")),
		f2("http", event.Object(event.Fields{f2("status", event.Int(502))})), f2("ip", event.String("10.0.0.1")),
		f2("bytes", event.Float(12.5)), f2("tags", event.Array([]event.Value{event.String("a")})))
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 256 {
			return // keep evaluation bounded: expr can build large ranges
		}
		p, err := Compile(src)
		if err != nil {
			return
		}
		out, runErr := p.Run(e)
		b, boolErr := p.Bool(e)
		if want, ok := out.(bool); ok && runErr == nil && (boolErr != nil || b != want) {
			t.Fatalf("%q: Run = %v, Bool = %v, %v", src, out, b, boolErr)
		}
		_, _ = p.Eval(e)
	})
}

func f2(k string, v event.Value) event.Field { return event.Field{Key: k, Value: v} }
