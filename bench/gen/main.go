// Command gen writes synthetic log files for the benchmarks: nginx
// "combined" access lines with varied fields, deterministic for a seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes to write")
	out := flag.String("o", "", "output file (default stdout)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	f := os.Stdout
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(*seed, 42))
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths := []string{"/", "/index.html", "/api/v1/users", "/api/v1/orders/12345", "/static/app.js", "/login", "/healthz"}
	codes := []int{200, 200, 200, 200, 301, 304, 404, 500, 503}
	agents := []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"curl/7.88.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	}
	var written int64
	var buf []byte
	for written < *size {
		buf = buf[:0]
		buf = fmt.Appendf(buf, "10.%d.%d.%d - - [22/Nov/2026:%02d:%02d:%02d +0000] \"%s %s?id=%d HTTP/1.1\" %d %d \"-\" \"%s\"\n",
			r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(24), r.IntN(60), r.IntN(60),
			methods[r.IntN(len(methods))], paths[r.IntN(len(paths))], r.IntN(100000),
			codes[r.IntN(len(codes))], r.IntN(50000), agents[r.IntN(len(agents))])
		n, err := w.Write(buf)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		written += int64(n)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
