package store

import (
	"encoding/binary"
	"slices"
	"strings"
)

// Row is a compact copy of one series for writing it out as text: its key
// (shared with the family's map, not copied), value, event time and, for
// histograms alone, the bucket counts. A million series are 40 MB of rows
// where the Series copies Collect hands out, with their label slices, are
// several times that.
type Row struct {
	Key   string
	Value float64 // a counter's or gauge's value; a histogram's sum
	Time  int64   // unix nanos of the newest event, 0 when not kept
	Hist  *HistRow
}

// HistRow is a histogram's part of a Row.
type HistRow struct {
	Count  uint64   // observations
	Counts []uint64 // per bucket, not cumulative; the last is +Inf
}

// Rows appends a row per series to dst and returns it. Like Collect, it
// removes expired series first and zeroes the family afterwards when it
// resets on scrape; unlike Collect, it copies no labels, exemplars or
// native buckets (the text format has no place for them).
func (f *Family) Rows(dst []Row) []Row {
	now := f.store.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweepLocked(now)
	hist := f.opts.Kind == Histogram
	dst = slices.Grow(dst, len(f.series))
	for k, s := range f.series {
		r := Row{Key: k, Value: s.value}
		if s.ext != nil {
			r.Time = s.ext.time
		}
		if hist {
			r.Hist = &HistRow{Count: s.count, Counts: append([]uint64(nil), s.ext.counts...)}
		}
		dst = append(dst, r)
		if f.opts.ResetOnScrape {
			s.reset(now.UnixNano())
		}
	}
	return dst
}

// KeyValues splits key into its label values, appending them to dst; the
// values share key's memory. Missing values are "".
func KeyValues(dst []string, key string, n int) []string {
	for len(key) > 0 && n > 0 {
		l, w := binary.Uvarint([]byte(key[:min(len(key), binary.MaxVarintLen64)]))
		if w <= 0 || int(l) > len(key)-w {
			break
		}
		dst = append(dst, key[w:w+int(l)])
		key = key[w+int(l):]
		n--
	}
	for ; n > 0; n-- {
		dst = append(dst, "")
	}
	return dst
}

// CompareKeys orders two keys of n labels by their values taken in the
// order of idx (label indexes), as Prometheus' Gather orders a family's
// metrics by their name-sorted label values.
func CompareKeys(a, b string, n int, idx []int) int {
	var av, bv [8]string
	x, y := KeyValues(av[:0], a, n), KeyValues(bv[:0], b, n)
	for _, i := range idx {
		if c := strings.Compare(x[i], y[i]); c != 0 {
			return c
		}
	}
	return 0
}
