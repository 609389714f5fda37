package prom

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// metric is one series written straight into client_model's protobuf
// message. client_golang's const metrics cannot carry all of what a rule
// may ask for at once (classic and native buckets, per-bucket exemplars,
// a created and a sample timestamp), so the collector fills the message
// itself; the registry still checks it like any other metric.
type metric struct {
	desc *prometheus.Desc
	m    dto.Metric
}

func (m *metric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric.
func (m *metric) Write(out *dto.Metric) error {
	out.Label, out.TimestampMs = m.m.Label, m.m.TimestampMs
	out.Counter, out.Gauge, out.Histogram = m.m.Counter, m.m.Gauge, m.m.Histogram
	return nil
}

// newMetric builds the metric of one series of a family with options o.
func newMetric(desc *prometheus.Desc, o *store.Options, vt prometheus.ValueType, s *store.Series) *metric {
	m := &metric{desc: desc}
	m.m.Label = prometheus.MakeLabelPairs(desc, s.Labels)
	if o.Timestamp {
		if t := s.EventTime(); t != 0 {
			m.m.TimestampMs = new(t / int64(time.Millisecond))
		}
	}
	created := timestamppb.New(time.Unix(0, s.Created))
	switch {
	case o.Kind == store.Histogram:
		m.m.Histogram = histogram(o, s, created)
	case vt == prometheus.GaugeValue:
		m.m.Gauge = &dto.Gauge{Value: new(s.Value)}
	default:
		m.m.Counter = &dto.Counter{Value: new(s.Value), CreatedTimestamp: created,
			Exemplar: exemplar(o, s, 0)}
	}
	return m
}

func histogram(o *store.Options, s *store.Series, created *timestamppb.Timestamp) *dto.Histogram {
	h := &dto.Histogram{SampleCount: new(s.Count), SampleSum: new(s.Sum), CreatedTimestamp: created}
	var n uint64
	for i, b := range o.Buckets {
		n += s.Counts[i]
		h.Bucket = append(h.Bucket, &dto.Bucket{CumulativeCount: new(n), UpperBound: new(b), Exemplar: exemplar(o, s, i)})
	}
	if len(o.Buckets) > 0 {
		if e := exemplar(o, s, len(o.Buckets)); e != nil {
			// The +Inf bucket is implied by the count; it is written
			// only to carry its exemplar.
			h.Bucket = append(h.Bucket, &dto.Bucket{CumulativeCount: new(s.Count), UpperBound: new(math.Inf(1)), Exemplar: e})
		}
	}
	nb, ok := s.Native()
	if !ok {
		return h
	}
	h.Schema, h.ZeroThreshold, h.ZeroCount = new(nb.Schema), new(nb.ZeroThreshold), new(nb.ZeroCount)
	h.PositiveSpan, h.PositiveDelta = spans(nb.PositiveOffset, nb.Positive)
	h.NegativeSpan, h.NegativeDelta = spans(nb.NegativeOffset, nb.Negative)
	if len(h.PositiveSpan) == 0 && len(h.NegativeSpan) == 0 && nb.ZeroCount == 0 {
		// An empty span marks the histogram native when it has no
		// observation yet (client_golang does the same).
		h.PositiveSpan = []*dto.BucketSpan{{Offset: new(int32(0)), Length: new(uint32(0))}}
	}
	for i := range len(o.Buckets) + 1 {
		if e := exemplar(o, s, i); e != nil {
			h.Exemplars = append(h.Exemplars, e)
		}
	}
	return h
}

// spans encodes dense bucket counts from index off as the spans and
// deltas of the native histogram format: runs of non-empty buckets, each
// count given as the difference from the previous one.
func spans(off int, counts []uint64) ([]*dto.BucketSpan, []int64) {
	var (
		ss   []*dto.BucketSpan
		ds   []int64
		prev int64
		next = off // index after the last span
	)
	for j, c := range counts {
		if c == 0 {
			continue
		}
		i := off + j
		if len(ss) == 0 || i != next {
			ss = append(ss, &dto.BucketSpan{Offset: new(int32(i - next)), Length: new(uint32(0))})
			if len(ss) == 1 {
				*ss[0].Offset = int32(i)
			}
		}
		*ss[len(ss)-1].Length++
		ds = append(ds, int64(c)-prev)
		prev, next = int64(c), i+1
	}
	return ss, ds
}

// exemplar returns the exemplar of bucket i of s, or nil.
func exemplar(o *store.Options, s *store.Series, i int) *dto.Exemplar {
	values, v, t, ok := s.Exemplar(i, len(o.Exemplar))
	if !ok {
		return nil
	}
	e := &dto.Exemplar{Value: new(v), Timestamp: timestamppb.New(time.Unix(0, t))}
	for j, name := range o.Exemplar {
		if values[j] != "" {
			e.Label = append(e.Label, &dto.LabelPair{Name: new(name), Value: new(values[j])})
		}
	}
	if len(e.Label) == 0 {
		return nil
	}
	return e
}

var _ prometheus.Metric = (*metric)(nil)
