package syslog

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestAppendRFC5424(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 22, 2, 33, 42, 123456789, time.FixedZone("", 3600))
	for _, tc := range []struct {
		name string
		ev   event.Event
		opts *EncodeOptions
		want string
	}{
		{
			name: "every part",
			ev: event.Event{Timestamp: ts, Host: "vm", Stream: "ignored", Message: []byte("hello"),
				Fields: event.Fields{
					{Key: "facility", Value: event.String("local7")},
					{Key: "severity", Value: event.String("info")},
					{Key: "appname", Value: event.String("nginx")},
					{Key: "procid", Value: event.Int(12)},
					{Key: "msgid", Value: event.String("ID")},
					{Key: "sd", Value: event.Object(event.Fields{
						{Key: "a@1", Value: event.Object(str5("b", `c"d\e]f`, "n", "1"))},
						{Key: "empty", Value: event.Object(nil)},
					})},
				}},
			want: `<190>1 2026-11-22T02:33:42.123456+01:00 vm nginx 12 ID [a@1 b="c\"d\\e\]f" n="1"][empty] hello`,
		},
		{name: "empty event", ev: event.Event{}, want: `<13>1 - - - - - -`},
		{
			name: "stream is the app name and options fill in",
			ev:   event.Event{Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Stream: "api", Message: []byte("m")},
			opts: &EncodeOptions{Facility: "local0", Severity: "warn", Hostname: "me", AppName: "unused"},
			want: `<132>1 2026-01-02T03:04:05.000000Z me api - - - m`,
		},
		{
			name: "app name option last",
			ev:   event.Event{},
			opts: &EncodeOptions{AppName: "sluice"},
			want: `<13>1 - - sluice - - -`,
		},
		{
			name: "numeric codes and aliases",
			ev:   event.Event{Fields: event.Fields{{Key: "facility", Value: event.Int(23)}, {Key: "severity", Value: event.String("error")}}},
			want: `<187>1 - - - - - -`,
		},
		{
			name: "unknown names fall back",
			ev:   event.Event{Fields: event.Fields{{Key: "facility", Value: event.String("bogus")}, {Key: "severity", Value: event.Int(9)}}},
			opts: &EncodeOptions{Severity: "debug"},
			want: `<15>1 - - - - - -`,
		},
		{
			name: "header bytes sanitised and cut",
			ev:   event.Event{Host: "my host\xff", Stream: strings.Repeat("a", 60), Fields: event.Fields{{Key: "msgid", Value: event.String(strings.Repeat("m", 40))}}},
			want: `<13>1 - my_host_ ` + strings.Repeat("a", 48) + ` - ` + strings.Repeat("m", 32) + ` -`,
		},
		{
			name: "sd names sanitised",
			ev: event.Event{Fields: event.Fields{{Key: "sd", Value: event.Object(event.Fields{
				{Key: "a b=c", Value: event.Object(str5("x]y", "1", "", "skipped"))}, {Key: "", Value: event.Object(nil)}})}}},
			want: `<13>1 - - - - - [a_b_c x_y="1"]`,
		},
		{
			name: "message bytes exact and BOM doubled",
			ev:   event.Event{Message: []byte("\xEF\xBB\xBFx\x00\xff\n")},
			want: "<13>1 - - - - - - \xEF\xBB\xBF\xEF\xBB\xBFx\x00\xff\n",
		},
		{
			name: "odd offset written as UTC",
			ev:   event.Event{Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 30))},
			want: `<13>1 2026-01-02T03:03:35.000000Z - - - - -`,
		},
		{name: "year out of range", ev: event.Event{Timestamp: time.Date(12026, 1, 2, 3, 4, 5, 0, time.UTC)}, want: `<13>1 - - - - - -`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := AppendRFC5424([]byte("prefix:"), &tc.ev, tc.opts)
			testutil.Diff(t, "prefix:"+tc.want, string(got))
		})
	}
}

func TestFrameOctetCounted(t *testing.T) {
	t.Parallel()
	buf := []byte("x")
	start := len(buf)
	buf = AppendRFC5424(buf, &event.Event{Message: []byte("hi")}, nil)
	buf = FrameOctetCounted(buf, start)
	testutil.Diff(t, "x20 <13>1 - - - - - - hi", string(buf))
	r := NewReader(strings.NewReader(string(buf[1:])), 64)
	f, err := r.Next()
	if err != nil || string(f) != "<13>1 - - - - - - hi" {
		t.Errorf("reading the frame back = %q, %v", f, err)
	}
}

// genToken draws a header token of printable ASCII other than "-".
func genToken(t *rapid.T, label string, maxLen int) string {
	s := string(rapid.SliceOfN(rapid.ByteRange('!', '~'), 1, maxLen).Draw(t, label))
	if s == "-" {
		s = "-x"
	}
	return s
}

func genSDName(t *rapid.T, label string) string {
	return string(rapid.SliceOfN(rapid.ByteRange('!', '~').Filter(isSDName), 1, maxSDName).Draw(t, label))
}

// genEvent draws an event in the shape a Decoder produces, so that
// decoding its encoding must give it back exactly.
func genEvent(t *rapid.T) event.Event {
	ev := event.Event{Message: rapid.SliceOf(rapid.Byte()).Draw(t, "msg")}
	if rapid.Bool().Draw(t, "hasTime") {
		sec := rapid.Int64Range(0, 4102444800).Draw(t, "sec")
		us := rapid.Int64Range(0, 999999).Draw(t, "us")
		off := rapid.IntRange(-14*60, 14*60).Draw(t, "off")
		ev.Timestamp = time.Unix(sec, us*1000).In(fixedZone(off))
	}
	if rapid.Bool().Draw(t, "hasHost") {
		ev.Host = genToken(t, "host", maxHostname)
	}
	app := genToken(t, "app", maxAppName)
	ev.Stream = app
	fac := rapid.IntRange(0, 23).Draw(t, "facility")
	sev := rapid.IntRange(0, 7).Draw(t, "severity")
	ev.Fields = str5(FieldFacility, FacilityName(fac), FieldSeverity, SeverityName(sev), FieldAppName, app)
	if rapid.Bool().Draw(t, "hasProcID") {
		ev.Fields = append(ev.Fields, event.Field{Key: FieldProcID, Value: event.String(genToken(t, "procid", maxProcID))})
	}
	if rapid.Bool().Draw(t, "hasMsgID") {
		ev.Fields = append(ev.Fields, event.Field{Key: FieldMsgID, Value: event.String(genToken(t, "msgid", maxMsgID))})
	}
	if sd := genSD(t); sd != nil {
		ev.Fields = append(ev.Fields, event.Field{Key: FieldSD, Value: event.Object(sd)})
	}
	ev.Fields = append(ev.Fields, event.Field{Key: FieldFormat, Value: event.String("rfc5424")})
	return ev
}

func genSD(t *rapid.T) event.Fields {
	var sd event.Fields
	for range rapid.IntRange(0, 3).Draw(t, "elements") {
		params := event.Fields{}
		for range rapid.IntRange(0, 3).Draw(t, "params") {
			params.Set(genSDName(t, "param"), event.String(string(rapid.SliceOf(rapid.Byte()).Draw(t, "value"))))
		}
		sd.Set(genSDName(t, "id"), event.Object(params))
	}
	return sd
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		want := genEvent(t)
		frame := AppendRFC5424(nil, &want, nil)
		var d Decoder
		var got event.Event
		if f := d.Decode(frame, time.Time{}, "", &got); f != FormatRFC5424 {
			t.Fatalf("decoded %q as %v", frame, f)
		}
		if diff := cmpDiff(want, got); diff != "" {
			t.Fatalf("frame %q: (-want +got)\n%s", frame, diff)
		}
	})
}

func BenchmarkAppendRFC5424(b *testing.B) {
	var d Decoder
	var ev event.Event
	d.Decode([]byte(benchLines[1].line), time.Now(), "", &ev)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRFC5424(buf[:0], &ev, nil)
	}
}
