package testutil

import (
	"fmt"
	"math/rand/v2"
)

// ApacheLines returns n Apache combined log lines with varied fields (like
// bench/gen's), the same on every call, for benchmarks of programs that
// match them (mtail).
func ApacheLines(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "GET", "POST", "PUT"}
	codes := []int{200, 200, 301, 304, 404, 500}
	out := make([]string, n)
	for i := range out {
		size := fmt.Sprint(r.IntN(50000))
		if r.IntN(10) == 0 {
			size = "-"
		}
		out[i] = fmt.Sprintf(`10.%d.%d.%d - - [22/Nov/2026:%02d:%02d:%02d +0000] "%s /api/v1/orders/%d HTTP/1.1" %d %s "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"`,
			r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(24), r.IntN(60), r.IntN(60),
			methods[r.IntN(len(methods))], r.IntN(100000), codes[r.IntN(len(codes))], size)
	}
	return out
}
