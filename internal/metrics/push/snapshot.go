package push

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// family is one rule's series at one instant, as every encoder reads it.
type family struct {
	name    string
	kind    store.Kind
	labels  []string  // label names, in the rule's order
	buckets []float64 // a histogram's upper bounds, without +Inf
	les     []string  // the buckets' le label values, +Inf last
	series  []store.Series
}

// snapshot is the store's series at one instant: families by name, series
// by label values, so that every push of the same series looks the same.
type snapshot struct {
	at   time.Time
	fams []family
}

// take reads s without changing it (no reset, no sweep).
func take(s *store.Store, at time.Time) *snapshot {
	fams := s.Families()
	snap := &snapshot{at: at, fams: make([]family, 0, len(fams))}
	for _, f := range fams {
		o := f.Options()
		fam := family{name: o.Name, kind: o.Kind, labels: o.Labels, buckets: o.Buckets}
		f.Snapshot(func(x store.Series) { fam.series = append(fam.series, x) })
		sort.Slice(fam.series, func(i, j int) bool {
			return slices.Compare(fam.series[i].Labels, fam.series[j].Labels) < 0
		})
		if o.Kind == store.Histogram {
			fam.les = make([]string, len(o.Buckets)+1)
			for i, b := range o.Buckets {
				fam.les[i] = strconv.FormatFloat(b, 'g', -1, 64)
			}
			fam.les[len(o.Buckets)] = "+Inf"
		}
		snap.fams = append(snap.fams, fam)
	}
	sort.Slice(snap.fams, func(i, j int) bool { return snap.fams[i].name < snap.fams[j].name })
	return snap
}

// label is one label of a series, name and value.
type label struct{ name, value string }

// sortedLabels returns the non-empty labels of s by name, appended to buf:
// an empty value is an absent label, as in Prometheus.
func (f *family) sortedLabels(buf []label, s *store.Series) []label {
	buf = buf[:0]
	for i, n := range f.labels {
		if i < len(s.Labels) && s.Labels[i] != "" {
			buf = append(buf, label{n, s.Labels[i]})
		}
	}
	// Insertion sort: a handful of labels, and no allocation.
	for i := 1; i < len(buf); i++ {
		for j := i; j > 0 && buf[j].name < buf[j-1].name; j-- {
			buf[j], buf[j-1] = buf[j-1], buf[j]
		}
	}
	return buf
}

// cumulative returns the cumulative count of each bucket of s, +Inf last,
// into buf.
func cumulative(buf []uint64, s *store.Series) []uint64 {
	buf = buf[:0]
	var n uint64
	for _, c := range s.Counts {
		n += c
		buf = append(buf, n)
	}
	return buf
}
