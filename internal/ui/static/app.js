// sluice live: the page. State lives in the URL (what a copied link
// shows) and in localStorage (favourites, theme); lines arrive over SSE
// and reach the DOM once per animation frame, in one fragment, with the
// oldest rows removed so the page never holds more than `limit` lines.

import { Follower, API, getJSON } from './follow.js';
import { appendText, highlighter, jsonTree, toggleFold, hue, plainText } from './render.js';
import { fieldsOf, fieldValue, level, Facets } from './fields.js';

const $ = (id) => document.getElementById(id);
const store = {
  get(k, d) { try { const v = localStorage.getItem('sluice.' + k); return v === null ? d : JSON.parse(v); } catch { return d; } },
  set(k, v) { try { localStorage.setItem('sluice.' + k, JSON.stringify(v)); } catch { /* private mode */ } },
};

// ---- state --------------------------------------------------------------

const S = {
  streams: [], grep: '', icase: false, ts: true, wrap: true, fields: false,
  cols: [], facets: new Map(), limit: 5000, json: 'fold',
  paused: false, known: [], favs: new Set(store.get('favs', [])),
};

function readURL() {
  const p = new URLSearchParams(location.search);
  S.streams = p.getAll('stream');
  S.grep = p.get('grep') || '';
  S.icase = p.get('icase') === '1';
  S.ts = p.get('ts') !== '0';
  S.wrap = p.get('wrap') !== '0';
  S.cols = (p.get('cols') || '').split(',').filter(Boolean);
  S.json = p.get('json') === 'pretty' ? 'pretty' : 'fold';
  S.facets = new Map();
  for (const f of p.getAll('f')) {
    const i = f.indexOf(':');
    if (i > 0) addFacet(f.slice(0, i), f.slice(i + 1));
  }
  const lim = parseInt(p.get('limit') || '', 10);
  S.limit = lim >= 100 && lim <= 100000 ? lim : 5000;
  S.fields = p.get('fields') === '1' || (S.cols.length > 0 && p.get('fields') !== '0');
}

function writeURL() {
  const p = new URLSearchParams();
  for (const s of S.streams) p.append('stream', s);
  if (S.grep) p.set('grep', S.grep);
  if (S.icase) p.set('icase', '1');
  if (!S.ts) p.set('ts', '0');
  if (!S.wrap) p.set('wrap', '0');
  if (S.cols.length) p.set('cols', S.cols.join(','));
  for (const [c, vs] of S.facets) for (const v of vs) p.append('f', `${c}:${v}`);
  if (S.json === 'pretty') p.set('json', 'pretty');
  if (S.limit !== 5000) p.set('limit', String(S.limit));
  if (S.fields) p.set('fields', '1');
  const q = p.toString();
  history.replaceState(null, '', q ? `?${q}` : location.pathname);
}

function addFacet(col, v) {
  if (!S.facets.has(col)) S.facets.set(col, new Set());
  S.facets.get(col).add(v);
}

// ---- lines --------------------------------------------------------------

let buf = [];          // the newest lines received, at most S.limit
let incoming = [];     // received, not yet in buf
let pending = [];      // received while paused or scrolled up
let pendingCount = 0;  // lines that arrived while paused
let skippedTotal = 0, behind = 0, received = 0;
let re = null;
let follower = null;
let frame = 0;
const log = $('log');

function pass(l) {
  for (const [c, vs] of S.facets) if (vs.size && !vs.has(fieldValue(l, c))) return false;
  return true;
}

function onLines(lines, b) {
  behind = b;
  received += lines.length;
  for (const l of lines) {
    l.msg = typeof l.event?.message === 'string' ? l.event.message : (l.event?.message == null ? '' : JSON.stringify(l.event.message));
    incoming.push(l);
  }
  if (incoming.length > S.limit * 2) incoming = incoming.slice(-S.limit);
  schedule();
}

function onSkipped(d) {
  skippedTotal += d.skipped;
  incoming.push({ marker: true, msg: `${d.skipped.toLocaleString()} lines skipped in ${d.stream} (seq ${d.from_seq}–${d.to_seq - 1}): they left the server's backlog before this page read them` });
  schedule();
}

function schedule() { if (!frame) frame = requestAnimationFrame(flush); }

function atBottom() { return log.scrollTop + log.clientHeight >= log.scrollHeight - 40; }

// A frame builds rows for at most BUDGET ms (in slices of SLICE rows), so
// that a burst (a resume, a reconnect catching up) is spread over frames
// and a click still gets its frame within milliseconds.
const BUDGET = 6, SLICE = 50;

// flush moves what arrived since the last frame into the page: into
// pending while paused or scrolled up, else into buf and the DOM.
function flush() {
  frame = 0;
  // Lines older than the page's limit would leave it at once.
  if (incoming.length > S.limit) incoming = incoming.slice(-S.limit);
  if (incoming.length === 0) return updateStats();
  if (S.paused || !follow) {
    const batch = incoming; incoming = [];
    if (S.paused) pendingCount += batch.reduce((n, l) => n + (l.marker ? 0 : 1), 0);
    for (const l of batch) pending.push(l);
    if (pending.length > S.limit) pending = pending.slice(-S.limit);
    return updateStats();
  }
  const t0 = performance.now();
  do addLines(incoming.length > SLICE ? incoming.splice(0, SLICE) : incoming.splice(0));
  while (incoming.length && performance.now() - t0 < BUDGET);
  if (incoming.length) schedule();
}

function addLines(batch) {
  for (const l of batch) buf.push(l);
  if (buf.length > S.limit) buf.splice(0, buf.length - S.limit);
  const start = Math.max(0, batch.length - S.limit);
  const shown = [];
  for (let i = start; i < batch.length; i++) if (batch[i].marker || pass(batch[i])) shown.push(row(batch[i]));
  appendRows(shown);
  facetsDirty = true;
  if (!scrollQueued) { scrollQueued = true; queueMicrotask(stickToBottom); }
}

// Rows go into the log in blocks, one per slice; a block off screen is
// skipped by layout and paint (content-visibility), so the cost of a
// frame follows the rows on screen and the rows added, not the rows
// kept. The oldest rows leave from the first block.
let rows = 0;
function appendRows(list) {
  if (!list.length) return;
  const blk = el('div', 'blk');
  blk.append(...list);
  blk.style.containIntrinsicSize = `auto ${list.length * 19}px`;
  log.appendChild(blk);
  rows += list.length;
  while (rows > S.limit) {
    const first = log.firstElementChild;
    const n = first.childElementCount, extra = rows - S.limit;
    if (n <= extra) { first.remove(); rows -= n; continue; }
    for (let i = 0; i < extra; i++) first.firstElementChild.remove();
    rows -= extra;
  }
}

function clearRows() { log.textContent = ''; rows = 0; }

// stickToBottom scrolls once per frame, after every slice: reading
// scrollHeight forces a layout, which must not happen per slice.
let scrollQueued = false;
function stickToBottom() {
  scrollQueued = false;
  if (follow) log.scrollTop = log.scrollHeight;
  updateStats();
}

function rerender() {
  clearRows();
  const shown = buf.filter((l) => l.marker || pass(l)).slice(-S.limit);
  for (let i = 0; i < shown.length; i += 200) appendRows(shown.slice(i, i + 200).map(row));
  colHead();
  log.scrollTop = log.scrollHeight;
  follow = true;
  updateStats();
}

const tsFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: '2-digit' });
const today = new Date().toDateString();

function fmtTime(s) {
  const d = new Date(s);
  if (isNaN(d)) return s || '';
  return (d.toDateString() === today ? '' : dayFmt.format(d) + ' ') + tsFmt.format(d);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function row(l) {
  if (l.marker) return el('div', 'row marker', l.msg);
  const r = el('div', 'row');
  r.dataset.stream = l.stream;
  r.dataset.seq = l.seq;
  const lv = level(l);
  if (lv) r.classList.add('lvl-' + lv);
  r.appendChild(el('span', 'ts', fmtTime(l.timestamp)));
  if (S.streams.length !== 1) {
    const sn = el('span', 'sn', l.stream);
    sn.style.color = `hsl(${hue(l.stream)} 65% 60%)`;
    sn.title = l.stream;
    r.appendChild(sn);
  }
  for (const c of S.cols) {
    const v = fieldValue(l, c);
    const e = el('span', 'col', v);
    e.title = `${c}: ${v}`;
    r.appendChild(e);
  }
  const m = el('span', 'msg');
  const f = fieldsOf(l);
  if (f.json !== undefined || f.count > 0) {
    const fold = el('span', 'fold', '▸');
    fold.dataset.line = '1';
    fold.title = 'Show as JSON';
    m.appendChild(fold);
    if (S.json === 'pretty') m.appendChild(expand(l));
    else if (l.msg === '') appendText(m.appendChild(el('span', 'fields-inline')), inlineFields(f), re);
    else appendText(m, l.msg, re);
  } else {
    appendText(m, l.msg, re);
  }
  r.appendChild(m);
  return r;
}

// inlineFields shows the fields of a line without a message as k=v.
function inlineFields(f) {
  let s = '';
  for (const [k, v] of f.map) s += `${s ? ' ' : ''}${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`;
  return s;
}

// expand renders a line's JSON message, or its event's fields, as a tree.
function expand(l) {
  const f = fieldsOf(l);
  const t = jsonTree(f.json !== undefined ? f.json : l.event);
  t.classList.add('tree');
  return t;
}

function colHead() {
  const h = $('colhead');
  h.hidden = S.cols.length === 0;
  h.textContent = '';
  if (h.hidden) return;
  h.appendChild(el('span', 'ts', '00:00:00.000'));
  if (S.streams.length !== 1) h.appendChild(el('span', 'sn', 'stream'));
  for (const c of S.cols) h.appendChild(el('span', 'col', c));
  h.appendChild(el('span', 'msg', 'message'));
}

log.addEventListener('click', (e) => {
  const t = e.target;
  if (toggleFold(t)) return;
  if (t.dataset && t.dataset.line) {
    const m = t.parentElement;
    const r = m.parentElement;
    const l = buf.find((x) => String(x.seq) === r.dataset.seq && x.stream === r.dataset.stream);
    if (!l) return;
    const open = t.textContent === '▾';
    while (t.nextSibling) t.nextSibling.remove();
    t.textContent = open ? '▸' : '▾';
    if (!open) m.appendChild(expand(l));
    else if (l.msg === '') appendText(m.appendChild(el('span', 'fields-inline')), inlineFields(fieldsOf(l)), re);
    else appendText(m, l.msg, re);
  }
});

// ---- following ------------------------------------------------------------

let follow = true; // the view is at the bottom and keeps up

log.addEventListener('scroll', () => {
  const b = atBottom();
  if (b && !follow) { follow = true; if (!S.paused) resumeView(); }
  else if (!b && follow) follow = false;
});

function resumeView() {
  const p = pending; pending = []; pendingCount = 0;
  follow = true;
  // What waited goes first, then what is arriving; spread over frames.
  if (p.length) { incoming = p.concat(incoming); schedule(); }
  log.scrollTop = log.scrollHeight;
  updateStats();
}

function restart() {
  if (follower) follower.close();
  buf = []; incoming = []; pending = []; pendingCount = 0; skippedTotal = 0; behind = 0; received = 0;
  clearRows();
  re = highlighter(S.grep, S.icase);
  colHead();
  renderFollowing();
  follow = true;
  const n = Math.max(1, S.streams.length || S.known.length || 1);
  follower = new Follower({ streams: S.streams, grep: S.grep, icase: S.icase, last: Math.min(1000, Math.ceil(S.limit / n)) },
    { lines: onLines, skipped: onSkipped, status: setStatus });
  updateStats();
}

function setStatus(state, text, badFilter) {
  const s = $('status');
  s.className = 'status ' + (S.paused && state === 'live' ? 'paused' : state);
  $('status-text').textContent = S.paused && state === 'live' ? 'paused' : text;
  const box = $('filter-box'), err = $('grep-error');
  box.classList.toggle('bad', !!badFilter);
  err.hidden = !badFilter;
  if (badFilter) err.textContent = text;
}

function updateStats() {
  const n = rows;
  $('count').textContent = `${n.toLocaleString()} / ${S.limit.toLocaleString()} lines`;
  const b = $('behind'), sk = $('skipped');
  b.textContent = `${behind.toLocaleString()} behind`;
  b.classList.toggle('hot', behind > 0);
  sk.textContent = `${skippedTotal.toLocaleString()} skipped`;
  sk.classList.toggle('hot', skippedTotal > 0);
  $('pause-count').hidden = !S.paused;
  $('pause-count').textContent = pendingCount.toLocaleString();
  const j = $('jump');
  j.hidden = S.paused || follow || pending.length === 0;
  $('jump-count').textContent = pending.length.toLocaleString();
  $('empty').hidden = n > 0 || buf.length > 0;
  $('empty').textContent = S.grep || S.facets.size ? 'No lines match yet…' : 'Waiting for lines…';
}

function setPaused(p) {
  S.paused = p;
  $('pause').classList.toggle('paused', p);
  $('pause-label').textContent = p ? 'Resume' : 'Pause';
  const st = $('status');
  if (st.classList.contains('live') || st.classList.contains('paused')) setStatus('live', 'live');
  if (!p) resumeView();
  updateStats();
}

// ---- streams ----------------------------------------------------------------

function fmtRate(r) { return r >= 100 ? `${Math.round(r)}/s` : r >= 1 ? `${r.toFixed(1)}/s` : r > 0 ? `${r.toFixed(2)}/s` : ''; }

async function pollStreams() {
  try {
    const d = await getJSON(`${API}/streams`);
    S.known = (d.streams || []).sort((a, b) => a.name.localeCompare(b.name));
    renderStreams();
  } catch { /* the status pill tells */ }
}

// renderStreams rebuilds the list only when its shape changed (streams,
// favourites, selection, search); else it updates the rates in place, so
// that the poll every 2 s neither flickers nor steals a click.
let listShape = '';
function renderStreams() {
  const q = $('stream-search').value.trim().toLowerCase();
  const list = $('stream-list'), favs = $('fav-list');
  const known = new Map(S.known.map((s) => [s.name, s]));
  for (const name of S.favs) if (!known.has(name)) known.set(name, { name, gone: true });
  const shape = JSON.stringify([q, [...known.keys()], [...S.favs], S.streams]);
  if (shape === listShape) {
    let total = 0;
    for (const s of known.values()) {
      total += s.rate || 0;
      const r = document.querySelector(`.stream[data-name="${CSS.escape(s.name)}"] .rate`);
      if (r) r.textContent = s.gone ? 'idle' : fmtRate(s.rate);
    }
    $('all-count').textContent = `${S.known.length} · ${fmtRate(total) || '0/s'}`;
    return;
  }
  listShape = shape;
  list.textContent = ''; favs.textContent = '';
  let total = 0;
  for (const s of known.values()) {
    total += s.rate || 0;
    if (q && !s.name.toLowerCase().includes(q)) continue;
    const li = el('li');
    li.appendChild(streamItem(s));
    (S.favs.has(s.name) ? favs : list).appendChild(li);
  }
  if (!favs.childElementCount) favs.appendChild(el('li', 'none', S.favs.size ? 'No match' : 'Star a stream to keep it here'));
  if (!list.childElementCount) list.appendChild(el('li', 'none', S.known.length ? 'No match' : 'No streams yet'));
  $('all-streams').classList.toggle('on', S.streams.length === 0);
  $('all-count').textContent = `${S.known.length} · ${fmtRate(total) || '0/s'}`;
}

function streamItem(s) {
  const b = el('div', 'stream');
  b.dataset.name = s.name;
  b.setAttribute('role', 'button');
  b.tabIndex = 0;
  const on = S.streams.includes(s.name);
  if (on) b.classList.add('on');
  const tick = el('input', 'tick');
  tick.type = 'checkbox';
  tick.checked = on;
  tick.title = 'Merge this stream into the view';
  tick.dataset.act = 'tick';
  b.appendChild(tick);
  const sw = el('span', 'swatch');
  sw.style.background = `hsl(${hue(s.name)} 65% 55%)`;
  b.appendChild(sw);
  b.appendChild(el('span', 'name', s.name)).title = s.name;
  const meta = el('span', 'meta');
  meta.appendChild(el('span', 'rate', s.gone ? 'idle' : fmtRate(s.rate)));
  b.appendChild(meta);
  const star = el('button', 'star' + (S.favs.has(s.name) ? ' on' : ''), S.favs.has(s.name) ? '★' : '☆');
  star.title = 'Favourite';
  star.dataset.act = 'star';
  b.appendChild(star);
  return b;
}

function onStreamClick(e) {
  const item = e.target.closest('.stream');
  if (!item || !item.dataset.name) return;
  const name = item.dataset.name;
  const act = e.target.dataset.act;
  if (act === 'star') {
    if (S.favs.has(name)) S.favs.delete(name); else S.favs.add(name);
    store.set('favs', [...S.favs]);
    renderStreams();
    return;
  }
  if (act === 'tick' || e.ctrlKey || e.metaKey || e.shiftKey) {
    S.streams = S.streams.includes(name) ? S.streams.filter((x) => x !== name) : [...S.streams, name];
  } else {
    S.streams = [name];
  }
  changed(true);
}

function renderFollowing() {
  const f = $('following');
  f.textContent = '';
  if (S.streams.length === 0) { f.appendChild(el('span', 'pill', 'all streams')); return; }
  for (const s of S.streams) {
    const p = el('span', 'pill');
    const sw = el('span', 'swatch');
    p.appendChild(el('span', '', s));
    const x = el('button', 'x', '×');
    x.title = `Stop following ${s}`;
    x.addEventListener('click', () => { S.streams = S.streams.filter((n) => n !== s); changed(true); });
    p.appendChild(x);
    p.style.borderColor = `hsl(${hue(s)} 65% 55%)`;
    void sw;
    f.appendChild(p);
  }
}

// changed applies a change of state: the URL, and the stream when the
// server-side query changed.
function changed(query) {
  writeURL();
  if (query) { restart(); renderStreams(); } else rerender();
  renderFacetFilters();
}

// ---- fields, columns, facets ---------------------------------------------

let facetsDirty = true;
const facets = new Facets();

function renderFields() {
  const panel = $('fields');
  panel.hidden = !S.fields;
  $('fields-btn').setAttribute('aria-pressed', String(S.fields));
  if (!S.fields || !facetsDirty) return;
  facetsDirty = false;
  const stats = facets.compute(buf, S.cols);
  const fl = $('field-list');
  fl.textContent = '';
  const names = [...new Set([...S.cols, ...stats.fields])];
  if (!names.length) fl.appendChild(el('li', 'none', 'No fields: lines are plain text'));
  for (const n of names) {
    const li = el('li');
    const lab = el('label');
    const cb = el('input');
    cb.type = 'checkbox';
    cb.checked = S.cols.includes(n);
    cb.dataset.col = n;
    lab.appendChild(cb);
    lab.appendChild(el('span', '', n));
    li.appendChild(lab);
    fl.appendChild(li);
  }
  const fc = $('facets');
  fc.textContent = '';
  if (!S.cols.length) fc.appendChild(el('div', 'none', 'Choose columns to count their values'));
  for (const c of S.cols) {
    const d = el('div', 'facet');
    d.dataset.col = c;
    d.appendChild(el('h4', '', c));
    const vals = stats.facets.get(c) || [];
    const max = vals.length ? vals[0][1] : 1;
    for (const [v, n] of vals) {
      const b = el('button');
      b.dataset.col = c;
      b.dataset.value = v;
      if (S.facets.get(c)?.has(v)) b.classList.add('on');
      const bar = el('span', 'bar');
      bar.style.width = `${Math.max(2, (100 * n) / max)}%`;
      b.appendChild(bar);
      b.appendChild(el('span', 'v', v === '' ? '(none)' : v));
      b.appendChild(el('span', 'c', n.toLocaleString()));
      d.appendChild(b);
    }
    if (!vals.length) d.appendChild(el('div', 'none', 'no values yet'));
    fc.appendChild(d);
  }
}

function renderFacetFilters() {
  const f = $('facet-filters');
  f.textContent = '';
  for (const [c, vs] of S.facets) {
    for (const v of vs) {
      const p = el('span', 'pill facet', `${c} = ${v === '' ? '(none)' : v}`);
      const x = el('button', 'x', '×');
      x.title = 'Remove this filter';
      x.addEventListener('click', () => toggleFacet(c, v));
      p.appendChild(x);
      f.appendChild(p);
    }
  }
}

function toggleFacet(c, v) {
  const s = S.facets.get(c);
  if (s?.has(v)) { s.delete(v); if (!s.size) S.facets.delete(c); } else addFacet(c, v);
  facetsDirty = true;
  changed(false);
  renderFields();
}

$('field-list').addEventListener('change', (e) => {
  const c = e.target.dataset.col;
  if (!c) return;
  S.cols = e.target.checked ? [...S.cols, c] : S.cols.filter((x) => x !== c);
  facetsDirty = true;
  changed(false);
  renderFields();
});
$('facets').addEventListener('click', (e) => {
  const b = e.target.closest('button');
  if (b && b.dataset.col) toggleFacet(b.dataset.col, b.dataset.value);
});
$('auto-cols').addEventListener('click', () => {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 50; i--) {
    const f = fieldsOf(buf[i]);
    if (f.count > 0) { S.cols = f.keys.slice(0, 5); break; }
  }
  facetsDirty = true;
  changed(false);
  renderFields();
});
$('clear-cols').addEventListener('click', () => { S.cols = []; S.facets.clear(); facetsDirty = true; changed(false); renderFields(); });

// ---- controls -------------------------------------------------------------

function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 1800);
}

async function copyLink() {
  const url = location.href;
  try { await navigator.clipboard.writeText(url); } catch {
    const ta = el('textarea'); ta.value = url; document.body.appendChild(ta); ta.select();
    document.execCommand('copy'); ta.remove();
  }
  toast('Link to this view copied');
}

function applyToggles() {
  $('ts').setAttribute('aria-pressed', String(S.ts));
  $('wrap').setAttribute('aria-pressed', String(S.wrap));
  $('icase').setAttribute('aria-pressed', String(S.icase));
  log.classList.toggle('nots', !S.ts);
  log.classList.toggle('wrap', S.wrap);
  $('colhead').classList.toggle('nots', !S.ts);
}

function setTheme(t) {
  document.documentElement.dataset.theme = t;
  store.set('theme', t);
}

let grepTimer = 0;
$('grep').addEventListener('input', () => {
  clearTimeout(grepTimer);
  grepTimer = setTimeout(() => { const v = $('grep').value; if (v !== S.grep) { S.grep = v; changed(true); } }, 300);
});
$('grep').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { clearTimeout(grepTimer); const v = $('grep').value; if (v !== S.grep) { S.grep = v; changed(true); } }
  if (e.key === 'Escape') { $('grep').blur(); }
});
$('icase').addEventListener('click', () => { S.icase = !S.icase; applyToggles(); changed(true); });
$('pause').addEventListener('click', () => setPaused(!S.paused));
$('ts').addEventListener('click', () => { S.ts = !S.ts; applyToggles(); colHead(); writeURL(); });
$('wrap').addEventListener('click', () => { S.wrap = !S.wrap; applyToggles(); writeURL(); });
$('fields-btn').addEventListener('click', () => { S.fields = !S.fields; facetsDirty = true; writeURL(); renderFields(); });
$('copy').addEventListener('click', copyLink);
$('theme').addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
$('jump').addEventListener('click', resumeView);
$('stream-search').addEventListener('input', renderStreams);
$('stream-list').addEventListener('click', onStreamClick);
$('fav-list').addEventListener('click', onStreamClick);
$('all-streams').addEventListener('click', () => { S.streams = []; changed(true); });

document.addEventListener('keydown', (e) => {
  const tag = e.target.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || e.ctrlKey || e.metaKey) return;
  if (e.altKey && e.key.toLowerCase() === 'c') { $('icase').click(); e.preventDefault(); return; }
  if (e.altKey) return;
  switch (e.key) {
    case '/': $('grep').focus(); e.preventDefault(); break;
    case ' ': setPaused(!S.paused); e.preventDefault(); break;
    case 't': $('ts').click(); break;
    case 'w': $('wrap').click(); break;
    case 'f': $('fields-btn').click(); break;
    case 'd': $('theme').click(); break;
    case 'G': case 'End': resumeView(); break;
  }
});

window.addEventListener('popstate', () => { readURL(); init(); });
// A page left (or put in the back/forward cache) closes its event stream:
// browsers allow only six connections per server over HTTP/1.1.
window.addEventListener('pagehide', () => { if (follower) follower.close(); });
window.addEventListener('pageshow', (e) => { if (e.persisted) restart(); });

// ---- start ------------------------------------------------------------------

function init() {
  $('grep').value = S.grep;
  applyToggles();
  restart();
  renderStreams();
  renderFacetFilters();
  renderFields();
}

setTheme(store.get('theme', matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark'));
readURL();
init();
pollStreams();
setInterval(pollStreams, 2000);
setInterval(() => { if (S.fields) renderFields(); }, 700);

// For the browser tests and for curious users: the page's counters.
window.sluice = {
  stats: () => ({ received, rows, buffered: buf.length, pending: pending.length, paused: S.paused, pendingCount, skipped: skippedTotal, behind }),
};
