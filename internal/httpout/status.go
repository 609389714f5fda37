package httpout

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/component"
)

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body (at most MaxErrorBody bytes),
	// with secrets redacted and invalid UTF-8 replaced.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += fmt.Sprintf(": %q", e.Body)
	}
	return msg
}

// Retryable reports whether an answer with this status is transient: 408
// Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx.
func Retryable(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

// Outcome maps a response to the pipeline's outcomes, reading at most
// MaxErrorBody bytes of a failed response's body (the caller closes it):
//
//   - 2xx: nil, delivered;
//   - 408, 425, 429, 5xx: a transient error, wrapped in
//     component.RetryAfter when the answer carries a valid Retry-After;
//   - 3xx: a rejection saying that redirects are not followed;
//   - any other status: a rejection.
//
// Every error wraps a *StatusError.
func (c *Client) Outcome(resp *http.Response) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	prefix, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	err := &StatusError{Code: code, Body: c.Scrub(prefix)}
	switch {
	case Retryable(code):
		wait, _ := RetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return component.RetryAfter(wait, fmt.Errorf("sending request: %w", err))
	case code >= 300 && code < 400:
		return component.Rejected(fmt.Errorf("sending request (redirects are not followed; set url to the final location): %w", err))
	}
	return component.Rejected(fmt.Errorf("sending request: %w", err))
}

// RetryAfter parses a Retry-After header value, either delay-seconds or
// an HTTP-date (RFC 9110 10.2.3), into a wait from now. It returns false
// for an empty, malformed, negative or past value.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		// Longer than the pipeline would ever wait anyway; avoids overflow.
		secs = min(secs, int64(component.MaxRetryAfter/time.Second)+1)
		if secs <= 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, false
}
