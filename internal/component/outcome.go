package component

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotConnected is returned by a sink whose connection is down. The
// pipeline backs off and calls Write again with the same batch.
var ErrNotConnected = errors.New("not connected")

// Outcome is what happened to one event of a batch.
type Outcome uint8

// Event outcomes.
const (
	OK     Outcome = iota // durably taken
	Retry                 // transient failure: send again later
	Reject                // refused for good: count, dead-letter, acknowledge
)

// RejectError marks a whole batch as refused permanently.
type RejectError struct{ Err error }

func (e *RejectError) Error() string { return "rejected: " + e.Err.Error() }
func (e *RejectError) Unwrap() error { return e.Err }

// Rejected wraps err so that the pipeline rejects the batch instead of
// retrying it. Use it for answers like HTTP 400.
func Rejected(err error) error { return &RejectError{Err: err} }

// PartialError reports per-event outcomes of a batch whose events fared
// differently (an Elasticsearch _bulk response). Outcomes is indexed like
// the batch's events.
type PartialError struct {
	Outcomes []Outcome
	Err      error
}

func (e *PartialError) Error() string {
	var retry, reject int
	for _, o := range e.Outcomes {
		switch o {
		case Retry:
			retry++
		case Reject:
			reject++
		}
	}
	return fmt.Sprintf("partial failure: %d to retry, %d rejected: %v", retry, reject, e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// RetryAfterError is a transient failure whose destination said when to
// come back (HTTP Retry-After). The pipeline waits at least After, bounded
// by MaxRetryAfter, before the next attempt; it may wrap a PartialError.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// MaxRetryAfter bounds how long a Retry-After hint can hold a sink back, so
// a misconfigured server cannot park deliveries for hours.
const MaxRetryAfter = 5 * time.Minute

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps a transient err with the wait the destination asked for.
// A zero or negative d returns err unchanged.
func RetryAfter(d time.Duration, err error) error {
	if d <= 0 {
		return err
	}
	return &RetryAfterError{After: d, Err: err}
}
