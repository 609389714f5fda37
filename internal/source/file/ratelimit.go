package file

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// rateLimited counts every error and logs at most one per interval,
// reporting how many it kept quiet about.
type rateLimited struct {
	log     *slog.Logger
	counter prometheus.Counter
	every   time.Duration
	now     func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (r *rateLimited) error(msg string, args ...any) {
	r.counter.Inc()
	r.mu.Lock()
	now := r.now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	r.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	r.log.Error(msg, args...)
}
