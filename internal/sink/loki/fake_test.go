package loki

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// The fake Loki: no real Loki can run here (AGPL, not packaged), so the
// tests decode what the sink sends with protowire and snappy (or
// encoding/json), independently of the encoder, and answer as Loki does.

// pushed is one decoded stream of a push.
type pushed struct {
	Labels  string
	Entries []pushedEntry
}

type pushedEntry struct {
	TS   int64
	Line string
}

// decodePush decodes a PushRequest.
func decodePush(b []byte) ([]pushed, error) {
	var out []pushed
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return fmt.Errorf("PushRequest: unexpected field %d type %d", num, typ)
		}
		var s pushed
		err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch {
			case num == 1 && typ == protowire.BytesType:
				s.Labels = string(v)
			case num == 2 && typ == protowire.BytesType:
				e, err := decodeEntry(v)
				s.Entries = append(s.Entries, e)
				return err
			default:
				return fmt.Errorf("StreamAdapter: unexpected field %d", num)
			}
			return nil
		})
		out = append(out, s)
		return err
	})
	return out, err
}

func decodeEntry(b []byte) (pushedEntry, error) {
	var e pushedEntry
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			var sec, nanos int64
			err := fields(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				switch {
				case num == 1 && typ == protowire.VarintType:
					sec = int64(x)
				case num == 2 && typ == protowire.VarintType:
					nanos = int64(int32(x))
				default:
					return fmt.Errorf("Timestamp: unexpected field %d", num)
				}
				return nil
			})
			e.TS = sec*1e9 + nanos
			return err
		case num == 2 && typ == protowire.BytesType:
			e.Line = string(v)
		default:
			return fmt.Errorf("EntryAdapter: unexpected field %d", num)
		}
		return nil
	})
	return e, err
}

// fields walks the fields of one message.
func fields(b []byte, f func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if err := f(num, typ, nil, x); err != nil {
				return err
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if err := f(num, typ, v, 0); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected wire type %d", typ)
		}
	}
	return nil
}

// decodeJSONPush decodes a JSON push body into the same shape, the label
// set written in Loki's text form.
func decodeJSONPush(b []byte) ([]pushed, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string
			Values [][2]string
		}
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	var out []pushed
	for _, s := range req.Streams {
		buf := []byte{'{'}
		for _, k := range sortedKeys(s.Stream) {
			buf = appendLabel(buf, k, []byte(s.Stream[k]))
		}
		p := pushed{Labels: string(append(buf, '}'))}
		for _, v := range s.Values {
			ts, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return nil, err
			}
			p.Entries = append(p.Entries, pushedEntry{TS: ts, Line: v[1]})
		}
		out = append(out, p)
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// fakeLoki records pushes; an entry whose line contains reject is refused
// the way Loki refuses an out-of-order entry (400, the others stored).
type fakeLoki struct {
	reject string
	mu     sync.Mutex
	pushes [][]pushed
	header []nethttp.Header
	lines  []string
}

func (f *fakeLoki) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
		return
	}
	var streams []pushed
	switch r.Header.Get("Content-Type") {
	case "application/x-protobuf":
		raw, derr := snappy.Decode(nil, body)
		if derr != nil {
			nethttp.Error(w, "snappy: "+derr.Error(), nethttp.StatusBadRequest)
			return
		}
		streams, err = decodePush(raw)
	case "application/json":
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, zerr := gzip.NewReader(strings.NewReader(string(body)))
			if zerr != nil {
				nethttp.Error(w, zerr.Error(), nethttp.StatusBadRequest)
				return
			}
			if body, err = io.ReadAll(zr); err != nil {
				nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
				return
			}
		}
		streams, err = decodeJSONPush(body)
	default:
		err = errors.New("unsupported content type")
	}
	if err != nil {
		nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
		return
	}
	var refused []string
	f.mu.Lock()
	f.pushes = append(f.pushes, streams)
	f.header = append(f.header, r.Header.Clone())
	total := 0
	for _, s := range streams {
		for _, e := range s.Entries {
			total++
			if f.reject != "" && strings.Contains(e.Line, f.reject) {
				refused = append(refused, fmt.Sprintf("entry with timestamp %s ignored, reason: 'entry out of order' for stream: %s,",
					time.Unix(0, e.TS).String(), s.Labels))
				continue
			}
			f.lines = append(f.lines, e.Line)
		}
	}
	f.mu.Unlock()
	if len(refused) > 0 {
		nethttp.Error(w, strings.Join(refused, "\n")+fmt.Sprintf("\ntotal ignored: %d out of %d", len(refused), total),
			nethttp.StatusBadRequest)
		return
	}
	w.WriteHeader(nethttp.StatusNoContent)
}

func (f *fakeLoki) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}
