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
	hist := f.opts.Kind == Histogram
	for k, s := range f.series {
		c := s.copyOut(hist)
		c.Labels, c.Created = splitKey(k, len(f.opts.Labels)), 0
		out = append(out, c)
	}
	f.mu.Unlock()
	for _, s := range out {
		fn(s)
	}
}
