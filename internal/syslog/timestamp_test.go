package syslog

import (
	"testing"
	"time"
)

func TestDaysFromCivil(t *testing.T) {
	t.Parallel()
	for d := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 10000; d = d.AddDate(0, 0, 7) {
		want := d.Unix() / 86400
		if d.Unix() < 0 && d.Unix()%86400 != 0 {
			want--
		}
		if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != want {
			t.Fatalf("daysFromCivil(%v) = %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
}

func TestParseRFC3339MatchesTime(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"2026-11-22T03:23:15.369816+00:00", "2003-08-24T05:14:15.000003-07:00", "1970-01-01T00:00:00Z",
		"0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999999-23:59", "2024-02-29T12:00:00+05:30",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, n, ok := parseRFC3339([]byte(s), 0, time.UTC)
		if !ok || n != len(s) || !got.Equal(want) {
			t.Errorf("%s: got %v (%d, %v), want %v", s, got, n, ok, want)
		}
		if _, off := got.Zone(); off != func() int { _, o := want.Zone(); return o }() {
			t.Errorf("%s: offset %d lost", s, off)
		}
	}
}
