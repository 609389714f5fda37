package exec

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/time/rate"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
)

// Rate of stderr lines written to sluice's log, in lines per second and
// burst; the lines over it are counted and the count is logged with the
// next line that passes.
const (
	stderrRate  = 10
	stderrBurst = 50
)

// stderrLog writes a command's stderr lines to sluice's log, rate-limited
// so a chatty command cannot flood it.
type stderrLog struct {
	log        *slog.Logger
	lim        *rate.Limiter
	mu         sync.Mutex
	suppressed int
}

func newStderrLog(log *slog.Logger) *stderrLog {
	return &stderrLog{log: log, lim: rate.NewLimiter(stderrRate, stderrBurst)}
}

// emit is the component.Emit of the stderr pump in log mode. It owns the
// batch, so it releases the token: the lines are done with once logged.
func (l *stderrLog) emit(_ context.Context, b *event.Batch) error {
	defer b.Ack.Release(ack.Delivered)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range b.Events {
		if !l.lim.Allow() {
			l.suppressed++
			continue
		}
		attrs := []any{"line", string(b.Events[i].Message)}
		if l.suppressed > 0 {
			attrs = append(attrs, "suppressed", l.suppressed)
			l.suppressed = 0
		}
		l.log.Info("command stderr", attrs...)
	}
	return nil
}

// done logs how many lines were suppressed since the last logged one, at
// the end of a run.
func (l *stderrLog) done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.suppressed > 0 {
		l.log.Info("command stderr lines suppressed", "suppressed", l.suppressed)
		l.suppressed = 0
	}
}
