package combined

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzParse checks that Parse never panics or modifies its input, and that
// what it accepts is consistent: string fields are views of the line, keys
// are unique, and the timestamp is what time.Parse makes of time_local.
func FuzzParse(f *testing.F) {
	f.Add([]byte(nginxLine), false)
	f.Add([]byte(`::1 id u [29/Feb/2024:23:59:59 +0530] "HEAD / HTTP/1.0" 304 - "-" "-" extra`), true)
	f.Add([]byte(`a - - [10/Oct/2023:13:55:36 -0700] "x\"y" - 0`), false)
	f.Add([]byte(`a b c d [`), true)
	f.Fuzz(func(t *testing.T, line []byte, apache bool) {
		fl := Nginx
		if apache {
			fl = Apache
		}
		orig := bytes.Clone(line)
		got, ts, err := Parse(nil, line, fl)
		if !bytes.Equal(line, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if len(got) != 0 || !ts.IsZero() {
				t.Fatalf("Parse failed (%v) but returned %v, %v", err, got, ts)
			}
			return
		}
		checkFields(t, line, got)
		tl, _ := got.Get(FieldTimeLocal)
		want, perr := time.Parse(layout, tl.Str())
		if perr != nil || !want.Equal(ts) {
			t.Fatalf("time %q: got %v, time.Parse gives %v, %v", tl.Str(), ts, want, perr)
		}
	})
}

func checkFields(t *testing.T, line []byte, got event.Fields) {
	t.Helper()
	if len(got) > MaxFields {
		t.Fatalf("%d fields, more than MaxFields", len(got))
	}
	seen := map[string]bool{}
	for _, fl := range got {
		if seen[fl.Key] {
			t.Fatalf("duplicate key %q", fl.Key)
		}
		seen[fl.Key] = true
		switch fl.Value.Kind() {
		case event.KindString:
			if s := fl.Value.Str(); s != "" && !within(line, s) {
				t.Fatalf("field %s=%q is not a view of the line", fl.Key, s)
			}
		case event.KindInt:
			if n, _ := fl.Value.Int(); n < 0 {
				t.Fatalf("field %s=%d is negative", fl.Key, n)
			}
		default:
			t.Fatalf("field %s has unexpected kind %v", fl.Key, fl.Value.Kind())
		}
	}
}

func within(line []byte, s string) bool {
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	return p >= base && p+uintptr(len(s)) <= base+uintptr(len(line))
}

// FuzzRoundTrip formats a line from its parts and checks that Parse gives
// the parts back.
func FuzzRoundTrip(f *testing.F) {
	f.Add("203.0.113.7", "alice", "GET", "/index.html", "HTTP/1.1", uint16(200), uint32(2326), "https://r/", "Mozilla/5.0")
	f.Add("::1", "-", "POST", "/a b", "HTTP/2.0", uint16(500), uint32(0), "-", "-")
	f.Fuzz(func(t *testing.T, addr, user, method, path, proto string, status uint16, size uint32, ref, ua string) {
		if !plain(addr, " ") || addr == "" || !plain(user, "[") || strings.Contains(user, " [") ||
			strings.HasPrefix(user, " ") || strings.HasSuffix(user, " ") || user == "" ||
			method == "" || !isToken([]byte(method)) || !plain(path+proto, `"\`) ||
			!strings.HasPrefix(proto, "HTTP/") || strings.Contains(proto, " ") || !plain(ref+ua, `"\`) {
			return
		}
		line := fmt.Sprintf(`%s - %s [10/Oct/2023:13:55:36 -0700] "%s %s %s" %d %d "%s" "%s"`,
			addr, user, method, path, proto, status, size, ref, ua)
		got, _, err := Parse(nil, []byte(line), Nginx)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		want := event.Fields{sf("remote_addr", addr)}
		if user != "-" {
			want = append(want, sf("remote_user", user))
		}
		want = append(want, sf("time_local", "10/Oct/2023:13:55:36 -0700"), sf("method", method),
			sf("path", path), sf("protocol", proto), nf("status", int64(status)), nf("body_bytes_sent", int64(size)))
		if ref != "-" {
			want = append(want, sf("http_referer", ref))
		}
		if ua != "-" {
			want = append(want, sf("http_user_agent", ua))
		}
		testutil.Diff(t, want, got, valueOpt)
	})
}

// plain reports whether s has none of the bytes in bad and no control bytes.
func plain(s, bad string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || strings.IndexByte(bad, s[i]) >= 0 {
			return false
		}
	}
	return true
}

// FuzzParseTime checks ParseTime against time.Parse: whatever ParseTime
// accepts, time.Parse accepts as the same instant.
func FuzzParseTime(f *testing.F) {
	f.Add([]byte("10/Oct/2023:13:55:36 -0700"))
	f.Add([]byte("29/feb/2000:00:00:00 +2400"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseTime(b)
		if !ok {
			return
		}
		want, err := time.Parse(layout, string(b))
		if err != nil || !want.Equal(got) || got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v; time.Parse = %v, %v", b, got, want, err)
		}
	})
}
