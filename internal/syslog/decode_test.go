package syslog

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func str5(k1 string, v1 string, rest ...string) event.Fields {
	f := event.Fields{{Key: k1, Value: event.String(v1)}}
	for i := 0; i+1 < len(rest); i += 2 {
		f = append(f, event.Field{Key: rest[i], Value: event.String(rest[i+1])})
	}
	return f
}

func TestDecoderDecode(t *testing.T) {
	t.Parallel()
	recv := time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		in       string
		fromHost bool
		want     event.Event
		format   Format
	}{
		{
			name: "logger rfc5424 with sd",
			in:   `<13>1 2026-11-22T03:23:15.381140+00:00 vm TAG - ID [timeQuality tzKnown="1" isSynced="0"][x@32473 k="v\]q"] msg4`,
			want: event.Event{
				Timestamp: time.Date(2026, 11, 22, 3, 23, 15, 381140000, time.UTC), Host: "vm", Stream: "TAG", Message: []byte("msg4"),
				Fields: event.Fields{
					{Key: "facility", Value: event.String("user")},
					{Key: "severity", Value: event.String("notice")},
					{Key: "appname", Value: event.String("TAG")},
					{Key: "msgid", Value: event.String("ID")},
					{Key: "sd", Value: event.Object(event.Fields{
						{Key: "timeQuality", Value: event.Object(str5("tzKnown", "1", "isSynced", "0"))},
						{Key: "x@32473", Value: event.Object(str5("k", "v]q"))},
					})},
					{Key: "syslog_format", Value: event.String("rfc5424")},
				},
			},
			format: FormatRFC5424,
		},
		{
			name: "nginx rfc3164",
			in:   `<190>Nov 22 02:33:42 vm nginx: 127.0.0.1 - - "GET / HTTP/1.1" 200`,
			want: event.Event{
				Timestamp: time.Date(2026, 11, 22, 2, 33, 42, 0, time.UTC), Host: "vm", Stream: "nginx",
				Message: []byte(`127.0.0.1 - - "GET / HTTP/1.1" 200`),
				Fields:  str5("facility", "local7", "severity", "info", "appname", "nginx", "syslog_format", "rfc3164"),
			},
			format: FormatRFC3164,
		},
		{
			name: "no host and no timestamp use fallbacks",
			in:   `<11>app[7]: boom`,
			want: event.Event{
				Timestamp: recv, Host: "10.0.0.9", Stream: "app", Message: []byte("boom"),
				Fields: str5("facility", "user", "severity", "err", "appname", "app", "procid", "7", "syslog_format", "rfc3164"),
			},
			format: FormatRFC3164,
		},
		{
			name: "no app name streams by host",
			in:   `<13>1 - h - - - - m`,
			want: event.Event{
				Timestamp: recv, Host: "h", Stream: "h", Message: []byte("m"),
				Fields: str5("facility", "user", "severity", "notice", "syslog_format", "rfc5424"),
			},
			format: FormatRFC5424,
		},
		{
			name:     "stream from host",
			in:       `<13>1 - h a - - - m`,
			fromHost: true,
			want: event.Event{
				Timestamp: recv, Host: "h", Stream: "h", Message: []byte("m"),
				Fields: str5("facility", "user", "severity", "notice", "appname", "a", "syslog_format", "rfc5424"),
			},
			format: FormatRFC5424,
		},
		{
			name: "empty sd element",
			in:   `<13>1 - h a - - [a] m`,
			want: event.Event{
				Timestamp: recv, Host: "h", Stream: "a", Message: []byte("m"),
				Fields: append(str5("facility", "user", "severity", "notice", "appname", "a"),
					event.Field{Key: "sd", Value: event.Object(event.Fields{{Key: "a", Value: event.Object(event.Fields{})}})},
					event.Field{Key: "syslog_format", Value: event.String("rfc5424")}),
			},
			format: FormatRFC5424,
		},
		{
			name: "raw keeps the whole frame",
			in:   "not syslog \x00\xff",
			want: event.Event{
				Timestamp: recv, Host: "10.0.0.9", Stream: "10.0.0.9", Message: []byte("not syslog \x00\xff"),
				Fields: str5("syslog_format", "raw"),
			},
			format: FormatRaw,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Decoder{Location: time.UTC, StreamFromHost: tc.fromHost}
			in := []byte(tc.in)
			var ev event.Event
			if got := d.Decode(in, recv, "10.0.0.9", &ev); got != tc.format {
				t.Errorf("format = %v, want %v", got, tc.format)
			}
			for i := range in {
				in[i] = 'X' // the event must not share the caller's buffer
			}
			testutil.Diff(t, tc.want, ev, valueOpt)
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchLines {
		b.Run(bc.name, func(b *testing.B) {
			d := Decoder{Location: time.UTC}
			recv := time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)
			in := []byte(bc.line)
			var ev event.Event
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				d.Decode(in, recv, "127.0.0.1", &ev)
			}
		})
	}
}

func cmpDiff(want, got any) string { return cmp.Diff(want, got, valueOpt) }
