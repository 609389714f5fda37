package redact

import (
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// benchLines are realistic lines: most hold nothing to redact (the common
// case, which must not allocate), a few hold an address, card or token.
var benchLines = map[string]string{
	"clean nginx": `GET /api/v1/items?page=2 HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.012`,
	"clean app":   `level=info msg="request done" method=GET path=/healthz status=200 duration_ms=3 trace=4bf92f3577b34da6`,
	"ip":          `10.12.0.7 - - [06/Dec/2026:05:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5"`,
	"email+card":  `level=warn msg="payment declined" user=jane.doe@example.com card="4111 1111 1111 1111" amount=12.50`,
	"bearer":      `level=debug msg="upstream call" header="Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"`,
}

func BenchmarkRedact(b *testing.B) {
	for name, line := range benchLines {
		b.Run(name, func(b *testing.B) {
			tr := newTransform(b, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				tr.Redact(line)
			}
		})
	}
}

// BenchmarkProcess redacts batches of 1000 access-log events of which one
// in ten holds an e-mail address.
func BenchmarkProcess(b *testing.B) {
	tr := newTransform(b, nil)
	src := testutil.AccessLogEvents(1000)
	for i := range src {
		if i%10 == 0 {
			src[i].Message = append(src[i].Message, " user=jane@example.com"...)
		}
	}
	testutil.BenchTransform(b, tr, src)
}
