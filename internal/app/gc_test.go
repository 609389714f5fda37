package app

import (
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		series int64
		want   int
	}{
		{name: "no series", series: 0, want: 200},
		{name: "the default budget", series: 100000, want: 161},
		{name: "a million series", series: 1000000, want: 59},
		{name: "two million: the floor", series: 2000000, want: 50},
		{name: "far more", series: 10000000, want: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.Diff(t, tc.want, gcPercent(tc.series))
		})
	}
}
