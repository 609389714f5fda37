package syslog

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// parsed is a Message flattened for comparison; "<nil>" marks an absent part.
type parsed struct {
	Format                          string
	Pri                             int
	Time                            string
	Host, App, ProcID, MsgID, SD, M string
}

func str(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

func flatten(m *Message) parsed {
	p := parsed{Format: m.Format.String(), Pri: int(m.Priority), Host: str(m.Hostname), App: str(m.AppName),
		ProcID: str(m.ProcID), MsgID: str(m.MsgID), SD: str(m.StructuredData), M: str(m.Msg)}
	if !m.Timestamp.IsZero() {
		p.Time = m.Timestamp.Format(time.RFC3339Nano)
	}
	return p
}

const nilS = "<nil>"

func TestParseRFC5424(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want *parsed // nil: not RFC 5424
	}{
		{"logger udp with timeQuality",
			`<13>1 2026-11-22T03:23:15.369816+00:00 vm TAG - - [timeQuality tzKnown="1" isSynced="0"] msg1`,
			&parsed{"rfc5424", 13, "2026-11-22T03:23:15.369816Z", "vm", "TAG", nilS, nilS, `[timeQuality tzKnown="1" isSynced="0"]`, "msg1"}},
		{"logger notq",
			`<13>1 2026-11-22T02:33:01.123456+00:00 vm TAG - - - msg`,
			&parsed{"rfc5424", 13, "2026-11-22T02:33:01.123456Z", "vm", "TAG", nilS, nilS, nilS, "msg"}},
		{"logger msgid and sd escapes",
			`<13>1 2026-11-22T03:23:15.381140+00:00 vm TAG - ID [timeQuality tzKnown="1" isSynced="0"][x@32473 k="v\]q"] msg4`,
			&parsed{"rfc5424", 13, "2026-11-22T03:23:15.38114Z", "vm", "TAG", nilS, "ID", `[timeQuality tzKnown="1" isSynced="0"][x@32473 k="v\]q"]`, "msg4"}},
		{"rsyslog omfwd",
			`<133>1 2026-11-22T02:31:24.677754+00:00 vm app - - - line-from-imfile-ok`,
			&parsed{"rfc5424", 133, "2026-11-22T02:31:24.677754Z", "vm", "app", nilS, nilS, nilS, "line-from-imfile-ok"}},
		{"syslog-ng whole seconds",
			`<13>1 2026-11-22T02:32:06+00:00 vm app - - [meta sequenceId="1"] file-line-ok`,
			&parsed{"rfc5424", 13, "2026-11-22T02:32:06Z", "vm", "app", nilS, nilS, `[meta sequenceId="1"]`, "file-line-ok"}},
		{"rfc example 1 with BOM",
			"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
			&parsed{"rfc5424", 34, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "su", nilS, "ID47", nilS, "'su root' failed for lonvick on /dev/pts/8"}},
		{"rfc example 2 negative offset",
			`<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
			&parsed{"rfc5424", 165, "2003-08-24T05:14:15.000003-07:00", "192.0.2.1", "myproc", "8710", nilS, nilS, "%% It's time to make the do-nuts."}},
		{"rfc example 4 two elements no msg",
			`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
			&parsed{"rfc5424", 165, "2003-10-11T22:14:15.003Z", "mymachine.example.com", "evntslog", nilS, "ID47",
				`[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`, ""}},
		{"all nil", `<0>1 - - - - - -`, &parsed{"rfc5424", 0, "", nilS, nilS, nilS, nilS, nilS, ""}},
		{"nothing after msgid", `<0>1 - h a p m`, &parsed{"rfc5424", 0, "", "h", "a", "p", "m", nilS, ""}},
		{"sd then text without space", `<14>1 - h a - - [a b="c"]msg`, &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, `[a b="c"]`, "msg"}},
		{"broken sd is message", `<14>1 - h a - - [bad msg`, &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, nilS, "[bad msg"}},
		{"text instead of sd", `<14>1 - h a - - hello world`, &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, nilS, "hello world"}},
		{"unescaped bracket in value", `<14>1 - h a - - [a b="x]y"] m`, &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, `[a b="x]y"]`, "m"}},
		{"element without params", `<14>1 - h a - - [a][b c="d"] m`, &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, `[a][b c="d"]`, "m"}},
		{"missing offset is loc", `<14>1 2026-11-22T03:23:15 h a - - - m`, &parsed{"rfc5424", 14, "2026-11-22T03:23:15+01:00", "h", "a", nilS, nilS, nilS, "m"}},
		{"nanoseconds", `<14>1 2026-11-22T03:23:15.123456789Z h a - - - m`, &parsed{"rfc5424", 14, "2026-11-22T03:23:15.123456789Z", "h", "a", nilS, nilS, nilS, "m"}},
		{"message keeps NUL and invalid UTF-8", "<14>1 - h a - - - a\x00b\xff\r", &parsed{"rfc5424", 14, "", "h", "a", nilS, nilS, nilS, "a\x00b\xff\r"}},
		{"utf8 hostname accepted", "<14>1 - h\xc3\xa9 a - - - m", &parsed{"rfc5424", 14, "", "h\xc3\xa9", "a", nilS, nilS, nilS, "m"}},
		{"version 0", `<13>0 - h a - - - m`, nil},
		{"no version", `<13> - h a - - - m`, nil},
		{"pri too big", `<192>1 - h a - - - m`, nil},
		{"pri four digits", `<0013>1 - h a - - - m`, nil},
		{"bad month", `<13>1 2026-13-22T03:23:15Z h a - - - m`, nil},
		{"bad day", `<13>1 2026-02-30T03:23:15Z h a - - - m`, nil},
		{"bad hour", `<13>1 2026-02-03T24:23:15Z h a - - - m`, nil},
		{"empty fraction", `<13>1 2026-02-03T03:23:15.Z h a - - - m`, nil},
		{"truncated header", `<13>1 2026-11-22T03:23:15Z`, nil},
		{"double space", `<13>1 2026-11-22T03:23:15Z  a - - - m`, nil},
		{"bsd", `<13>Nov 22 02:33:01 vm TAG: msg`, nil},
		{"control byte in header", "<13>1 - h\x01 a - - - m", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m Message
			ok := ParseRFC5424([]byte(tc.in), &m, time.FixedZone("", 3600))
			if ok != (tc.want != nil) {
				t.Fatalf("ParseRFC5424 = %v, want %v (%+v)", ok, tc.want != nil, flatten(&m))
			}
			if ok {
				testutil.Diff(t, *tc.want, flatten(&m))
			}
		})
	}
}

func TestParseRFC3164(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   string
		want *parsed
	}{
		{"logger udp", `<13>Nov 22 02:33:01 vm TAG: msg`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", "TAG", nilS, nilS, nilS, "msg"}},
		{"logger with pid", `<13>Nov 22 03:23:15 vm TAG[13113]: msg5`,
			&parsed{"rfc3164", 13, "2026-11-22T03:23:15Z", "vm", "TAG", "13113", nilS, nilS, "msg5"}},
		{"nginx access log",
			`<190>Nov 22 02:33:42 vm nginx: 127.0.0.1 - - [22/Nov/2026:02:33:42 +0000] "GET /index.html?q=... HTTP/1.1" 200 10 "-" "curl/7.88.1"`,
			&parsed{"rfc3164", 190, "2026-11-22T02:33:42Z", "vm", "nginx", nilS, nilS, nilS,
				`127.0.0.1 - - [22/Nov/2026:02:33:42 +0000] "GET /index.html?q=... HTTP/1.1" 200 10 "-" "curl/7.88.1"`}},
		{"local socket without host", `<13>Nov 22 03:23:18 TAG: msg6`,
			&parsed{"rfc3164", 13, "2026-11-22T03:23:18Z", nilS, "TAG", nilS, nilS, nilS, "msg6"}},
		{"local socket with pid", `<13>Nov 22 03:23:18 TAG[13159]: msg9`,
			&parsed{"rfc3164", 13, "2026-11-22T03:23:18Z", nilS, "TAG", "13159", nilS, nilS, "msg9"}},
		{"synsend", `<13>Nov 22 02:33:01 benchhost synsend[4242]: seq=0000000001 xxxx`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "benchhost", "synsend", "4242", nilS, nilS, "seq=0000000001 xxxx"}},
		{"rfc example padded day", `<34>Oct  1 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			&parsed{"rfc3164", 34, "2026-10-01T22:14:15Z", "mymachine", "su", nilS, nilS, nilS, "'su root' failed for lonvick on /dev/pts/8"}},
		{"unpadded day", `<34>Oct 1 22:14:15 h su: x`,
			&parsed{"rfc3164", 34, "2026-10-01T22:14:15Z", "h", "su", nilS, nilS, nilS, "x"}},
		{"rsyslog forward format",
			`<13>2026-11-22T02:31:24.677754+00:00 vm app: msg`,
			&parsed{"rfc3164", 13, "2026-11-22T02:31:24.677754Z", "vm", "app", nilS, nilS, nilS, "msg"}},
		{"iso without zone", `<38>2026-11-22T02:32:06 localhost prg00000[1234]: seq: 0000000000`,
			&parsed{"rfc3164", 38, "2026-11-22T02:32:06Z", "localhost", "prg00000", "1234", nilS, nilS, "seq: 0000000000"}},
		{"year before time", `<13>Nov 22 2025 02:33:42 host app: msg`,
			&parsed{"rfc3164", 13, "2025-11-22T02:33:42Z", "host", "app", nilS, nilS, nilS, "msg"}},
		{"fraction", `<13>Nov 22 02:33:01.123 vm app: msg`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01.123Z", "vm", "app", nilS, nilS, nilS, "msg"}},
		{"postfix tag with slash", `<22>Nov 22 02:33:01 mail postfix/smtpd[1234]: connect from x`,
			&parsed{"rfc3164", 22, "2026-11-22T02:33:01Z", "mail", "postfix/smtpd", "1234", nilS, nilS, "connect from x"}},
		{"pid without colon", `<13>Nov 22 02:33:01 vm app[12] msg`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", "app", "12", nilS, nilS, "msg"}},
		{"no tag", `<13>Nov 22 02:33:01 vm just a message`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", nilS, nilS, nilS, nilS, "just a message"}},
		{"url is not a tag", `<13>Nov 22 02:33:01 vm http://x visited`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", nilS, nilS, nilS, nilS, "http://x visited"}},
		{"empty message", `<13>Nov 22 02:33:01 vm app:`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", "app", nilS, nilS, nilS, ""}},
		{"host only", `<13>Nov 22 02:33:01 vm`,
			&parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", nilS, nilS, nilS, nilS, ""}},
		{"no timestamp tag", `<13>myapp: hello`, &parsed{"rfc3164", 13, "", nilS, "myapp", nilS, nilS, nilS, "hello"}},
		{"no timestamp text", `<13>hello world`, &parsed{"rfc3164", 13, "", nilS, nilS, nilS, nilS, nilS, "hello world"}},
		{"pri only", `<0>`, &parsed{"rfc3164", 0, "", nilS, nilS, nilS, nilS, nilS, ""}},
		{"broken 5424 falls to text", `<13>1 hello`, &parsed{"rfc3164", 13, "", nilS, nilS, nilS, nilS, nilS, "1 hello"}},
		{"bad time is text", `<13>Nov 22 25:33:01 vm app: m`, &parsed{"rfc3164", 13, "", nilS, nilS, nilS, nilS, nilS, "Nov 22 25:33:01 vm app: m"}},
		{"keeps NUL and invalid UTF-8", "<13>Nov 22 02:33:01 vm app: a\x00\xfe", &parsed{"rfc3164", 13, "2026-11-22T02:33:01Z", "vm", "app", nilS, nilS, nilS, "a\x00\xfe"}},
		{"no pri", `Nov 22 02:33:01 vm app: m`, nil},
		{"empty", ``, nil},
		{"pri unterminated", `<13 x`, nil},
		{"pri empty", `<>x`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m Message
			ok := ParseRFC3164([]byte(tc.in), &m, time.UTC, now)
			if ok != (tc.want != nil) {
				t.Fatalf("ParseRFC3164 = %v, want %v", ok, tc.want != nil)
			}
			if ok {
				testutil.Diff(t, *tc.want, flatten(&m))
			}
		})
	}
}

func TestYearInference(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name  string
		now   time.Time
		stamp string
		loc   *time.Location
		want  time.Time
	}{
		{"same day", time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 15 11:00:00", time.UTC,
			time.Date(2026, 6, 15, 11, 0, 0, 0, time.UTC)},
		{"december seen in january", time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC), "Dec 31 23:59:00", time.UTC,
			time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"january seen in december", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "Jan  1 00:01:00", time.UTC,
			time.Date(2027, 1, 1, 0, 1, 0, 0, time.UTC)},
		{"one day ahead is this year", time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 16 12:00:00", time.UTC,
			time.Date(2026, 6, 16, 12, 0, 0, 0, time.UTC)},
		{"five days ahead is last year", time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), "Jun 20 12:00:00", time.UTC,
			time.Date(2025, 6, 20, 12, 0, 0, 0, time.UTC)},
		{"leap day in a common year", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "Feb 29 12:00:00", time.UTC,
			time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"leap day in a leap year", time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), "Feb 29 12:00:00", time.UTC,
			time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"zone decides the year", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "Jan  1 00:10:00", paris,
			time.Date(2027, 1, 1, 0, 10, 0, 0, paris)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m Message
			if !ParseRFC3164([]byte("<13>"+tc.stamp+" h a: m"), &m, tc.loc, tc.now) {
				t.Fatal("did not parse")
			}
			if !m.Timestamp.Equal(tc.want) || m.Timestamp.Location() != tc.loc {
				t.Errorf("timestamp = %v, want %v", m.Timestamp, tc.want)
			}
		})
	}
}

func TestParseDetects(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     Format
	}{
		{"rfc5424", `<13>1 - h a - - - m`, FormatRFC5424},
		{"rfc3164", `<13>Nov 22 02:33:01 vm TAG: msg`, FormatRFC3164},
		{"broken 5424 is 3164", `<13>1 2026-99-01T00:00:00Z h a - - - m`, FormatRFC3164},
		{"plain text is raw", `hello world`, FormatRaw},
		{"octet count left in is raw", `96 <13>1 - h a - - - m`, FormatRaw},
		{"json is raw", `{"msg":"x"}`, FormatRaw},
		{"empty is raw", ``, FormatRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m Message
			ok := Parse([]byte(tc.in), &m, time.UTC, now)
			if ok != (tc.want != FormatRaw) || m.Format != tc.want {
				t.Fatalf("Parse = %v, %v; want %v", ok, m.Format, tc.want)
			}
			if !ok && string(m.Msg) != tc.in {
				t.Errorf("raw message = %q, want the whole frame", m.Msg)
			}
		})
	}
}

func TestUnescapeSD(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"none", `plain`, `plain`},
		{"quote", `a\"b`, `a"b`},
		{"backslash", `a\\b`, `a\b`},
		{"bracket", `a\]b`, `a]b`},
		{"other escapes stay", `a\nb\x`, `a\nb\x`},
		{"trailing backslash stays", `a\`, `a\`},
		{"escaped backslash before quote", `\\\"`, `\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.Diff(t, tc.want, string(UnescapeSD([]byte(tc.in))))
		})
	}
}

func TestSDIter(t *testing.T) {
	t.Parallel()
	var m Message
	in := `<13>1 - h a - - [a x="1" y="2\"\]"][b][c z=""] m`
	if !ParseRFC5424([]byte(in), &m, time.UTC) {
		t.Fatal("did not parse")
	}
	var got []string
	it := NewSDIter(m.StructuredData)
	for n := 0; n < 10; n++ {
		id, ok := it.NextElement()
		if !ok {
			break
		}
		got = append(got, "id:"+string(id))
		// Read only the first parameter of each element: the iterator must skip the rest.
		if name, v, ok := it.NextParam(); ok {
			got = append(got, string(name)+"="+string(UnescapeSD(v)))
		}
	}
	testutil.Diff(t, []string{"id:a", "x=1", "id:b", "id:c", "z="}, got)
}
