package live

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// FuzzParseQuery: any query string parses or fails with ErrBadQuery; it
// never panics, and a parsed query respects the bounds.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"stream=a&stream=b&grep=err(or)?&icase=1",
		"since=5m&expr=status+%3E%3D+500",
		"since=123&after=a:b:7&last=10",
		"backlog?stream=x&before=99&limit=5",
		"grep=(&expr=)&since=-1s&limit=-3",
		"after=nocolon&icase=maybe",
		"expr=foo(1)&grep=" + url.QueryEscape(`\p{Greek}+`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error %v does not wrap ErrBadQuery", err)
			}
			return
		}
		if len(q.Streams) > maxQueryStreams || q.Limit > maxLimit || q.Last > maxLimit || q.Limit < 0 {
			t.Fatalf("out of bounds: %+v", q)
		}
		m := matcher{q: &q}
		rec := record{host: []byte("h"), stream: []byte("s"), msg: []byte(raw), fields: []byte(`,"status":500`)}
		m.match(&rec, 0)
	})
}

// FuzzRecord: a record parses back to what was put in it, and parsing
// arbitrary bytes fails cleanly.
func FuzzRecord(f *testing.F) {
	f.Add("host", "stream", []byte("message"), []byte(`,"k":1`), []byte{0x05, 'a'})
	f.Fuzz(func(t *testing.T, host, stream string, msg, fields, junk []byte) {
		b := make([]byte, recordSize(host, stream, msg, fields))
		putRecord(b, host, stream, msg, fields)
		r, err := parseRecord(b)
		if err != nil || string(r.host) != host || string(r.stream) != stream || string(r.msg) != string(msg) || string(r.fields) != string(fields) {
			t.Fatalf("round trip: %+v, %v", r, err)
		}
		if r, err := parseRecord(junk); err == nil {
			_ = appendEventJSON(nil, &r, 0)
			_, _, _ = r.toEvent(0, nil)
		}
	})
}

// FuzzBacklogFile: reading any backlog file fails cleanly or fills the
// store within its bounds; a file written by encodeSpill reads back.
func FuzzBacklogFile(f *testing.F) {
	st := NewStore(Limits{MaxLines: 10, MaxBytes: 4096, MaxStreams: 4, Idle: time.Hour})
	s := st.stream("a", 0)
	rec := make([]byte, recordSize("h", "a", []byte("msg"), nil))
	putRecord(rec, "h", "a", []byte("msg"), nil)
	copy(s.r.reserve(len(rec), 5), rec)
	good := encodeSpill(st)
	f.Add(good)
	f.Add([]byte(spillMagic + "\x01a\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := NewStore(Limits{MaxLines: 10, MaxBytes: 4096, MaxStreams: 4, Idle: time.Hour})
		_ = decodeSpill(st, data, time.Unix(0, 0))
		for _, s := range st.Streams() {
			if i := s.Info(time.Unix(0, 0)); i.Lines > 10 || i.Bytes > 4096 {
				t.Fatalf("over the bounds: %+v", i)
			}
		}
		if len(st.Streams()) > 4 {
			t.Fatalf("%d streams", len(st.Streams()))
		}
	})
}
