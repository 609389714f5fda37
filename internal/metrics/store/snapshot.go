package store

// Snapshot calls fn with a copy of every series, as Collect does, but
// changes nothing: expired series are not swept and reset_on_scrape
// families are not zeroed. Pushers read the series this way, so pushing
// never takes a count away from a scraper (nor a scrape from a pusher).
// The copy holds the label values, Value, Counts, Sum and Count; fn runs
// after the family's lock is released.
func (f *Family) Snapshot(fn func(Series)) {
	f.mu.Lock()
	out := make([]Series, 0, len(f.series))
	for k, s := range f.series {
		out = append(out, Series{Labels: splitKey(k, len(f.opts.Labels)), Value: s.Value, Sum: s.Sum, Count: s.Count,
			Counts: append([]uint64(nil), s.Counts...)})
	}
	f.mu.Unlock()
	for _, s := range out {
		fn(s)
	}
}
