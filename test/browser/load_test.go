package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestUILoad: 5,000 lines/s into 3 streams with the page following all
// three. The page holds at most its limit of rows, a click (pause,
// resume) reaches the screen quickly throughout, and every line is
// accounted for: received by the page or reported skipped.
// SLUICE_UI_LOAD_SECONDS sets the duration (default 8; the issue's
// figure is 30).
func TestUILoad(t *testing.T) {
	testutil.SkipIfShort(t)
	secs := 8
	if v, err := strconv.Atoi(os.Getenv("SLUICE_UI_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	ctx := browser(t)
	s := startSluice(t, "")
	limit := 5000
	if v, err := strconv.Atoi(os.Getenv("SLUICE_UI_LOAD_LIMIT")); err == nil && v > 0 {
		limit = v
	}
	run(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/?limit=%d", s.api, limit)))
	waitJS(t, ctx, "the page following", `document.getElementById('status-text').textContent === 'live'`)
	get(t, ctx, chromedp.Evaluate[int](`window.__lat = []; document.getElementById('pause').addEventListener('click', (e) => {
	  const t0 = e.timeStamp; requestAnimationFrame(() => window.__lat.push(performance.now() - t0)); }, true); 0`))

	// Three senders, 50 lines every 30 ms each: about 5,000 lines/s.
	streams := []string{"alpha", "beta", "gamma"}
	sent := make([]int, len(streams))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, name := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(30 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				ev := lines(name, sent[i], 50)
				for _, e := range ev {
					e["level"] = []string{"info", "warn", "error"}[sent[i]%3]
				}
				if err := s.post(name, ev); err != nil {
					t.Error(err)
					return
				}
				sent[i] += 50
			}
		}()
	}
	rss0 := rssKiB(t, s)
	began := time.Now()
	maxRows := 0
	pace := time.NewTicker(300 * time.Millisecond)
	defer pace.Stop()
	for time.Since(began) < time.Duration(secs)*time.Second {
		<-pace.C
		run(t, ctx, chromedp.Click(chromedp.ID(`pause`)))
		st := stats(t, ctx)
		maxRows = max(maxRows, st.Rows)
	}
	close(stop)
	wg.Wait()
	total := 0
	for _, n := range sent {
		total += n
	}
	if stats(t, ctx).Paused {
		run(t, ctx, chromedp.Click(chromedp.ID(`pause`)))
	}
	testutil.WaitFor(t, 20*time.Second, "every line received or reported skipped", func() bool {
		st := stats(t, ctx)
		return st.Received+st.Skipped == total
	})
	st := stats(t, ctx)
	rss1 := rssKiB(t, s)
	lat := get(t, ctx, chromedp.Evaluate[[]float64](`window.__lat`))
	t.Logf("click to frame, in order (ms): %.0f", lat)
	sort.Float64s(lat)
	if len(lat) == 0 {
		t.Fatal("no click measured")
	}
	p50, p99, worst := lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	t.Logf("%d lines in %v (%.0f lines/s) into 3 streams; page: %d received, %d skipped, %d rows (max %d, limit %d); click to frame: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d clicks; sluice RSS %d -> %d KiB",
		total, time.Since(began).Round(time.Millisecond), float64(total)/time.Since(began).Seconds(), st.Received, st.Skipped, st.Rows, maxRows, limit, p50, p99, worst, len(lat), rss0, rss1)
	if maxRows > limit || st.Rows > limit {
		t.Errorf("the page held %d rows, limit %d", maxRows, limit)
	}
	if st.Rows != limit {
		t.Errorf("the page holds %d rows after %d lines, want its limit %d", st.Rows, total, limit)
	}
	if p99 > 100 {
		t.Errorf("a click took %.1f ms to reach the screen (p99), want under 100 ms; all: %v", p99, lat)
	}
}

type pageStats struct {
	Received, Rows, Skipped int
	Paused                  bool
}

func stats(t *testing.T, ctx context.Context) pageStats {
	t.Helper()
	raw := get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.sluice.stats())`))
	var st pageStats
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// rssKiB is sluice's resident memory, from /proc.
func rssKiB(t *testing.T, s *server) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}
