package backoff

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestJitterStaysInRange(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, time.Millisecond, time.Minute} {
		for range 1000 {
			if j := Jitter(d); j < d/2 || j > d {
				t.Fatalf("Jitter(%v) = %v, outside [%v, %v]", d, j, d/2, d)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if !Sleep(t.Context(), time.Second) || time.Since(start) != time.Second {
			t.Fatalf("Sleep(1s) returned after %v", time.Since(start))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if Sleep(ctx, time.Hour) {
			t.Fatal("Sleep outlived its context")
		}
	})
}

func TestExponential(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Exponential
		want []time.Duration
	}{
		{"doubles up to max", Exponential{Base: time.Second, Max: 5 * time.Second},
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"base above max", Exponential{Base: time.Minute, Max: time.Second},
			[]time.Duration{time.Second, time.Second}},
		{"no max", Exponential{Base: time.Millisecond},
			[]time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []time.Duration
			for range tc.want {
				got = append(got, tc.e.Next())
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Fatalf("Next() sequence = %v, want %v", got, tc.want)
				}
			}
			tc.e.Reset()
			if d := tc.e.Next(); d != tc.want[0] {
				t.Fatalf("after Reset, Next() = %v, want %v", d, tc.want[0])
			}
		})
	}
}

func TestExponentialJitter(t *testing.T) {
	e := Exponential{Base: time.Second, Max: 8 * time.Second, Jitter: true}
	for attempt, full := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 100 {
			if d := e.Delay(attempt); d < full/2 || d > full {
				t.Fatalf("Delay(%d) = %v, outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}

func TestExponentialLongRunDoesNotOverflow(t *testing.T) {
	e := Exponential{Base: time.Second, Max: time.Minute}
	for range 200 {
		if d := e.Next(); d <= 0 || d > time.Minute {
			t.Fatalf("Next() = %v after many attempts", d)
		}
	}
}
