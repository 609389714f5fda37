// Command genapache writes a synthetic Apache httpd "combined" access log
// for bench/metrics.sh: a fixed number of lines, deterministic for a seed,
// with the variety of a real server (a few thousand clients, most of them
// seen often, methods, protocol versions, status codes, "-" sizes, user
// names, referers and user agents), every line matched by mtail's
// apache_combined.mtail.
//
// With -distinct D, line i comes from client i mod D, whose address,
// method and status are functions of that index alone, so the log holds
// exactly D distinct (client, method, status) label sets: the
// high-cardinality case.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

var (
	methods  = []string{"GET", "GET", "GET", "GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"}
	versions = []string{"HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/2.0", "HTTP/1.0"}
	codes    = []int{200, 200, 200, 200, 200, 200, 204, 301, 302, 304, 304, 400, 401, 403, 404, 404, 500, 502, 503}
	paths    = []string{"/", "/index.html", "/api/v1/users", "/api/v1/orders/", "/static/app.js", "/static/style.css",
		"/login", "/logout", "/healthz", "/search", "/images/logo.png", "/wp-login.php", "/robots.txt", "/favicon.ico"}
	users    = []string{"-", "-", "-", "-", "-", "-", "-", "alice", "bob", "carol"}
	referers = []string{"-", "-", "-", "https://www.example.com/", "https://www.google.com/search?q=sluice",
		"https://example.org/blog/2026/11/metrics", "http://localhost:8080/"}
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"curl/7.88.1",
		"python-requests/2.31.0",
		"Prometheus/3.0.1",
	}
	months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

func main() {
	lines := flag.Int("lines", 2000000, "lines to write")
	distinct := flag.Int("distinct", 0, "if > 0: exactly this many distinct (client, method, status) sets")
	clients := flag.Int("clients", 5000, "client addresses (without -distinct)")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if err := write(*out, *lines, *distinct, *clients, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genapache:", err)
		os.Exit(1)
	}
}

func write(path string, lines, distinct, clients int, seed uint64) error {
	f := os.Stdout
	if path != "" {
		var err error
		if f, err = os.Create(path); err != nil {
			return err
		}
		defer f.Close()
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var buf []byte
	for i := range lines {
		buf = line(buf[:0], r, i, distinct, clients)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if path != "" {
		return f.Close()
	}
	return nil
}

// line appends line i. Clients are skewed (the square of a uniform draw):
// a few are seen very often, as on a real server.
func line(b []byte, r *rand.Rand, i, distinct, clients int) []byte {
	var client, method, code int
	if distinct > 0 {
		c := uint64(i % distinct)
		client = int(c)
		h := c * 0x9e3779b97f4a7c15
		method, code = int(h>>40)%len(methods), codes[int(h>>20)%len(codes)]
	} else {
		u := r.Float64()
		client = int(u * u * float64(clients))
		method, code = r.IntN(len(methods)), codes[r.IntN(len(codes))]
	}
	b = fmt.Appendf(b, "%d.%d.%d.%d %s %s ", 10+client>>24&0x7f, client>>16&255, client>>8&255, client&255,
		"-", users[r.IntN(len(users))])
	sec := i / 25 // 25 lines a second
	b = fmt.Appendf(b, "[%02d/%s/2026:%02d:%02d:%02d +0000] ", 1+sec/86400%28, months[sec/(86400*28)%12],
		sec/3600%24, sec/60%60, sec%60)
	p := paths[r.IntN(len(paths))]
	b = fmt.Appendf(b, "\"%s %s", methods[method], p)
	if p == "/api/v1/orders/" || p == "/search" {
		b = fmt.Appendf(b, "?id=%d", r.IntN(100000))
	}
	b = fmt.Appendf(b, " %s\" %d ", versions[r.IntN(len(versions))], code)
	if code == 304 || code == 204 || r.IntN(20) == 0 {
		b = append(b, '-')
	} else {
		b = fmt.Appendf(b, "%d", 20+r.IntN(60000))
	}
	return fmt.Appendf(b, " \"%s\" \"%s\"\n", referers[r.IntN(len(referers))], agents[r.IntN(len(agents))])
}
