package browser

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
)

// TestUIFrontail runs examples/live/frontail as shipped (paths from the
// environment): two local files, each a stream of the page, merged when
// both are ticked, lines appended after the start shown as they come.
func TestUIFrontail(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx := browser(t)
	dir := t.TempDir()
	app, system := filepath.Join(dir, "app.log"), filepath.Join(dir, "syslog")
	for _, f := range []string{app, system} {
		if err := os.WriteFile(f, []byte("written before sluice started\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := filepath.Abs("../../examples/live/frontail/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready.json")
	cmd := exec.Command(proctest.SluiceBin(t), "run", "-c", cfg, "--ready-file", ready)
	cmd.Env = append(os.Environ(), "APP_LOG="+app, "SYSTEM_LOG="+system,
		"SLUICE_DATA_DIR="+filepath.Join(dir, "data"), "SLUICE_API_LISTEN=127.0.0.1:0")
	p := proctest.Start(t, cmd)
	api := "http://" + p.Ready(t, ready, 20*time.Second).API

	appendLines := func(path, what string, n int) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for i := range n {
			if _, err := fmt.Fprintf(f, "%s line %d\n", what, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, ctx, chromedp.Navigate(api+"/"))
	// The file source picks up what is appended once it watches the files;
	// keep appending until both streams are listed.
	listed := `!!document.querySelector('.stream[data-name=` + jsString(app) + `]') && !!document.querySelector('.stream[data-name=` + jsString(system) + `]')`
	var last time.Time
	testutil.WaitFor(t, 20*time.Second, "both files listed as streams", func() bool {
		if time.Since(last) > 250*time.Millisecond { // a few lines, not a flood
			appendLines(app, "app", 1)
			appendLines(system, "system", 1)
			last = time.Now()
		}
		return get(t, ctx, chromedp.Evaluate[bool](listed))
	})
	run(t, ctx, chromedp.Navigate(api+"/?stream="+app+"&stream="+system))
	appendLines(app, "app-merged", 5)
	appendLines(system, "system-merged", 5)
	waitJS(t, ctx, "lines of both files merged in one view",
		`[...document.querySelectorAll('#log .row[data-stream]')].filter(r => r.innerText.includes('-merged line')).length === 10`)
	if get(t, ctx, chromedp.Evaluate[bool](`document.body.innerText.includes('written before sluice started')`)) {
		t.Error("read_from: end showed a line written before sluice started")
	}
	screenshot(t, ctx, "frontail")
}
