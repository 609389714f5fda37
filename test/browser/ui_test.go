package browser

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/testutil"
)

// apiEvents are JSON events with fields, for columns and facets.
func apiEvents(first, n int) []map[string]any {
	levels := []string{"info", "info", "warn", "error"}
	out := make([]map[string]any, n)
	for i := range out {
		k := first + i
		out[i] = map[string]any{
			"message":     fmt.Sprintf("GET /api/items/%d", k),
			"level":       levels[k%len(levels)],
			"status":      []int{200, 200, 404, 500}[k%4],
			"duration_ms": 3 + k%40,
			"user":        map[string]any{"id": k % 7, "plan": "pro"},
		}
	}
	return out
}

// contiguous is a JS expression: the rows of stream s have seqs that grow
// by one, with none missing or repeated.
func contiguous(s string) string {
	return `(() => { const r = [...document.querySelectorAll('#log .row[data-stream=` + jsString(s) + `]')].map(e => +e.dataset.seq);
	  return r.length > 0 && r.every((v, i) => i === 0 || v === r[i-1] + 1); })()`
}

// TestUI drives the page through what a person does with it, in one
// browser tab: the steps depend on each other's state.
func TestUI(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx := browser(t)
	s := startSluice(t, "")
	s.send(t, "worker", lines("worker", 0, 20)...)
	s.send(t, "api", apiEvents(0, 40)...)

	// The page loads and lists the streams.
	run(t, ctx, chromedp.Navigate(s.api+"/"))
	if title := get(t, ctx, chromedp.Title()); title != "sluice · live" {
		t.Fatalf("title %q", title)
	}
	waitJS(t, ctx, "both streams listed", `!!document.querySelector('.stream[data-name="worker"]') && !!document.querySelector('.stream[data-name="api"]')`)
	waitJS(t, ctx, "the backlog of every stream shown", `document.querySelectorAll('#log .row[data-stream]').length === 60`)

	// A stream appears as its lines arrive, and its lines with it.
	s.send(t, "late", lines("late", 0, 3)...)
	waitJS(t, ctx, "a new stream listed", `!!document.querySelector('.stream[data-name="late"]')`)
	waitJS(t, ctx, "its lines shown", `document.querySelectorAll('#log .row[data-stream="late"]').length === 3`)

	// A favourite stays on top, across page loads (localStorage).
	run(t, ctx, chromedp.Click(chromedp.CSS(`.stream[data-name="late"] .star`)))
	waitJS(t, ctx, "late among the favourites", `!!document.querySelector('#fav-list .stream[data-name="late"]') && !document.querySelector('#stream-list .stream[data-name="late"]')`)
	run(t, ctx, chromedp.Navigate(s.api+"/"))
	waitJS(t, ctx, "the favourite kept", `!!document.querySelector('#fav-list .stream[data-name="late"] .star.on')`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID(`stream-search`), "wor"))
	waitJS(t, ctx, "the stream search", `[...document.querySelectorAll('.stream[data-name]')].map(e => e.dataset.name).join() === 'worker'`)
	get(t, ctx, chromedp.Evaluate[int](`(() => { const i = document.getElementById('stream-search'); i.value = ''; i.dispatchEvent(new Event('input')); return 0; })()`))

	// Switching to one stream.
	run(t, ctx, chromedp.Click(chromedp.CSS(`.stream[data-name="worker"] .name`)))
	waitJS(t, ctx, "only worker shown", `location.search === '?stream=worker' && document.querySelectorAll('#log .row[data-stream]').length === 20 &&
	  [...document.querySelectorAll('#log .row[data-stream]')].every(r => r.dataset.stream === 'worker')`)

	// Merging a second one.
	run(t, ctx, chromedp.Click(chromedp.CSS(`.stream[data-name="api"] input.tick`)))
	waitJS(t, ctx, "worker and api merged", `location.search === '?stream=worker&stream=api' && document.querySelectorAll('#log .row[data-stream="api"]').length === 40 &&
	  document.querySelectorAll('#log .row[data-stream="worker"]').length === 20`)

	// The regex filter, on the server, kept in the URL, matches highlighted.
	run(t, ctx, chromedp.SendKeys(chromedp.ID(`#grep`), `LINE 1[0-9]$`+kb.Enter))
	waitJS(t, ctx, "a case-sensitive filter matching nothing", `new URLSearchParams(location.search).get('grep') === 'LINE 1[0-9]$' && document.querySelectorAll('#log .row[data-stream]').length === 0`)
	run(t, ctx, chromedp.Click(chromedp.ID(`#icase`)))
	waitJS(t, ctx, "the filter ignoring case", `new URLSearchParams(location.search).get('icase') === '1' && document.querySelectorAll('#log .row[data-stream]').length === 10 &&
	  [...document.querySelectorAll('#log .row[data-stream] mark')].map(m => m.textContent).join() === 'line 10,line 11,line 12,line 13,line 14,line 15,line 16,line 17,line 18,line 19'`)

	// The URL alone brings the same view back.
	url := get(t, ctx, chromedp.Location())
	run(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(url))
	waitJS(t, ctx, "the view restored from its URL", `document.getElementById('grep').value === 'LINE 1[0-9]$' && document.querySelectorAll('#log .row[data-stream]').length === 10`)

	// A pattern that does not compile: the server's reason, in the page.
	run(t, ctx, chromedp.Navigate(s.api+"/?stream=worker&grep=line%20(1"))
	waitJS(t, ctx, "the filter's error shown", `(() => { const e = document.getElementById('grep-error'); return !e.hidden && e.textContent.includes('missing closing )') &&
	  document.getElementById('filter-box').classList.contains('bad'); })()`)

	// Pause: lines that arrive are counted, not shown; resume shows them
	// all, with no gap.
	run(t, ctx, chromedp.Navigate(s.api+"/?stream=worker"))
	waitJS(t, ctx, "worker's backlog", `document.querySelectorAll('#log .row[data-stream]').length === 20`)
	run(t, ctx, chromedp.Click(chromedp.ID(`#pause`)))
	waitJS(t, ctx, "paused", `window.sluice.stats().paused`)
	s.send(t, "worker", lines("worker", 20, 30)...)
	waitJS(t, ctx, "30 lines counted while paused", `document.getElementById('pause-count').textContent === '30' && document.querySelectorAll('#log .row[data-stream]').length === 20`)
	run(t, ctx, chromedp.Click(chromedp.ID(`#pause`)))
	waitJS(t, ctx, "resumed with every line", `document.querySelectorAll('#log .row[data-stream]').length === 50 && `+contiguous("worker"))
	s.send(t, "worker", lines("worker", 50, 5)...)
	waitJS(t, ctx, "following again", `document.querySelectorAll('#log .row[data-stream]').length === 55 && `+contiguous("worker"))

	// JSON: a line unfolds into a pretty-printed tree whose objects fold.
	run(t, ctx, chromedp.Navigate(s.api+"/?stream=api"))
	waitJS(t, ctx, "api's backlog", `document.querySelectorAll('#log .row[data-stream]').length === 40`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#log .row[data-seq="3"] .fold`)))
	waitJS(t, ctx, "the event as a tree", `(() => { const t = document.querySelector('#log .row[data-seq="3"] .tree'); if (!t) return false;
	  const keys = [...t.querySelectorAll('.k')].map(k => k.textContent);
	  return keys.includes('"level"') && keys.includes('"user"') && keys.includes('"plan"') && t.innerText.includes('"level": "error"'); })()`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#log .row[data-seq="3"] .tree .jnode .jnode > .fold`)))
	waitJS(t, ctx, "a nested object folded", `document.querySelector('#log .row[data-seq="3"] .tree .jnode .jnode').classList.contains('collapsed')`)

	// Columns from the fields of a line, and a facet that filters.
	run(t, ctx, chromedp.Click(chromedp.ID(`#fields-btn`)), chromedp.Click(chromedp.ID(`#auto-cols`)))
	waitJS(t, ctx, "columns from the fields", `(() => { const h = [...document.querySelectorAll('#colhead .col')].map(e => e.textContent);
	  return h.includes('level') && h.includes('status') && new URLSearchParams(location.search).get('cols').includes('level'); })()`)
	waitJS(t, ctx, "facet counts", `(() => { const b = document.querySelector('.facet button[data-col="level"][data-value="error"]'); return b && b.querySelector('.c').textContent === '10'; })()`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`.facet button[data-col="level"][data-value="error"]`)))
	waitJS(t, ctx, "only error lines", `new URLSearchParams(location.search).getAll('f').join() === 'level:error' &&
	  document.querySelectorAll('#log .row[data-stream]').length === 10 &&
	  [...document.querySelectorAll('#log .row[data-stream]')].every(r => r.classList.contains('lvl-error'))`)
	s.send(t, "api", apiEvents(40, 8)...)
	waitJS(t, ctx, "new lines filtered too", `document.querySelectorAll('#log .row[data-stream]').length === 12`)

	// ANSI colours become styles, and a JSON message unfolds too.
	s.send(t, "color", map[string]any{"message": "\x1b[32mINFO\x1b[0m started with \x1b[1;33m4\x1b[0m threads"},
		map[string]any{"message": `{"msg":"cache miss","key":"user:7","nested":{"a":[1,2,{"b":null}]}}`})
	run(t, ctx, chromedp.Navigate(s.api+"/?stream=color"))
	waitJS(t, ctx, "colours", `(() => { const m = document.querySelector('#log .row[data-seq="0"] .msg'); return m && m.textContent === 'INFO started with 4 threads' &&
	  m.querySelector('.f2').textContent === 'INFO' && m.querySelector('.a-b.f3').textContent === '4'; })()`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`#log .row[data-seq="1"] .fold`)))
	waitJS(t, ctx, "the JSON message as a tree", `(() => { const t = document.querySelector('#log .row[data-seq="1"] .tree'); return t && t.innerText.includes('"key": "user:7"'); })()`)
	screenshot(t, ctx, "json")

	run(t, ctx, chromedp.Navigate(s.api+"/?stream=api&cols=duration_ms,level,status,user&f=level:error&fields=1"))
	waitJS(t, ctx, "the columns view from its URL", `document.querySelectorAll('#log .row[data-stream]').length === 12`)

	// Themes: the other one, kept across pages; both screenshots, for a look.
	first := get(t, ctx, chromedp.Evaluate[string](`document.documentElement.dataset.theme`))
	screenshot(t, ctx, "columns-"+first)
	run(t, ctx, chromedp.Click(chromedp.ID(`theme`)))
	waitJS(t, ctx, "the other theme", `document.documentElement.dataset.theme !== `+jsString(first))
	second := get(t, ctx, chromedp.Evaluate[string](`document.documentElement.dataset.theme`))
	screenshot(t, ctx, "columns-"+second)
	run(t, ctx, chromedp.Navigate(s.api+"/?stream=worker&stream=api&grep=line%201&icase=1"))
	waitJS(t, ctx, "merged view", `document.querySelectorAll('#log .row[data-stream]').length > 5 && document.documentElement.dataset.theme === `+jsString(second))
	screenshot(t, ctx, "filter-"+second)
}

// TestUILogin: with users configured a browser without a session is sent
// to the login page; a wrong password is refused there, and the right one
// opens the page, whose event stream then works on the session cookie.
// Clients without a browser's Accept header get a plain 401.
func TestUILogin(t *testing.T) {
	testutil.SkipIfShort(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	s := startSluice(t, fmt.Sprintf("  auth:\n    users: { alice: %q }", hash))
	resp, err := s.client.Get(s.api + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET / without credentials: %s, want 401", resp.Status)
	}
	s.send(t, "secure", lines("secure", 0, 5)...)

	login := func(password string) {
		run(t, ctx,
			chromedp.WaitVisible(chromedp.ID(`user`)),
			chromedp.SetValue(chromedp.ID(`user`), "alice"),
			chromedp.SetValue(chromedp.ID(`password`), password),
			chromedp.Submit(chromedp.ID(`password`)))
	}
	run(t, ctx, chromedp.Navigate(s.api+"/"))
	waitJS(t, ctx, "the login page instead of the UI", `location.pathname === "/login" && !!document.querySelector("#password")`)
	login("wrong")
	waitJS(t, ctx, "the wrong password refused", `location.pathname === "/login" && location.search.includes("failed=1")`)
	login("s3cret")
	waitJS(t, ctx, "lines through the authenticated event stream", `document.querySelectorAll('#log .row[data-stream="secure"]').length === 5 && !!document.querySelector('.stream[data-name="secure"]')`)
}
