// Command writer appends lines to many files at a fixed total rate, for the
// tailing memory benchmark. It stops by itself after -duration.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", "", "directory for the files")
	files := flag.Int("files", 100, "number of files")
	rate := flag.Int("rate", 10000, "lines per second in total")
	duration := flag.Duration("duration", 30*time.Second, "how long to write")
	flag.Parse()
	fs := make([]*os.File, *files)
	for i := range fs {
		f, err := os.OpenFile(filepath.Join(*dir, fmt.Sprintf("app-%03d.log", i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fs[i] = f
	}
	// Write in 10 ms ticks: rate/100 lines per tick spread over the files.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(*duration)
	n := 0
	perTick := max(*rate/100, 1)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		for i := 0; i < perTick; i++ {
			f := fs[n%len(fs)]
			fmt.Fprintf(f, "%s level=info msg=\"request handled\" seq=%d path=/api/v1/items/%d duration_ms=%d\n",
				now.UTC().Format(time.RFC3339Nano), n, n%977, n%250)
			n++
		}
	}
	fmt.Println(n)
}
