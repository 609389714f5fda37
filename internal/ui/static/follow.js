// Following the live API over server-sent events, resuming after the last
// line received from each stream (after=STREAM:SEQ) whenever the
// connection drops, so a reconnect neither loses nor repeats a line that
// is still in the server's backlog.

export const API = '/api/v1/live';

export class Follower {
  // q: {streams: [], grep, icase, last}; h: {lines(lines, behind),
  // skipped(ev), status(state, text)}.
  constructor(q, h) {
    this.q = q;
    this.h = h;
    this.after = new Map(); // stream -> last seq received
    this.es = null;
    this.closed = false;
    this.retry = 500;
    this.timer = 0;
    this.connect(true);
  }

  url(first) {
    const p = new URLSearchParams();
    for (const s of this.q.streams) p.append('stream', s);
    if (this.q.grep) p.set('grep', this.q.grep);
    if (this.q.icase) p.set('icase', '1');
    if (first || this.after.size === 0) {
      if (this.q.last) p.set('last', String(this.q.last));
    }
    for (const [s, seq] of this.after) p.append('after', `${s}:${seq}`);
    return `${API}/follow?${p}`;
  }

  connect(first) {
    if (this.closed) return;
    const url = this.url(first);
    const es = new EventSource(url); // same-origin: sends cookies and cached basic-auth credentials
    this.es = es;
    let hello = false;
    this.h.status('connecting', 'connecting');
    es.addEventListener('hello', () => { hello = true; this.retry = 500; this.h.status('live', 'live'); });
    es.addEventListener('lines', (e) => {
      const d = JSON.parse(e.data);
      const lines = d.lines || [];
      for (const l of lines) this.after.set(l.stream, l.seq);
      this.h.lines(lines, d.behind || 0);
    });
    es.addEventListener('skipped', (e) => {
      const d = JSON.parse(e.data);
      if (d.to_seq > 0) this.after.set(d.stream, Math.max(this.after.get(d.stream) ?? -1, d.to_seq - 1));
      this.h.skipped(d);
    });
    es.onerror = () => {
      es.close();
      if (this.closed || this.es !== es) return;
      if (!hello) this.explain(url);
      else this.h.status('error', 'reconnecting');
      this.timer = setTimeout(() => this.connect(false), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  // explain asks the same URL with fetch to show why it was refused
  // (a regular expression that does not compile, 401, no live sink).
  async explain(url) {
    const ac = new AbortController();
    try {
      const r = await fetch(abs(url), { credentials: 'same-origin', signal: ac.signal });
      if (r.ok) { ac.abort(); this.h.status('error', 'reconnecting'); return; }
      let msg = `${r.status} ${r.statusText}`;
      try { const j = await r.json(); if (j.error) msg = j.error; } catch { /* not JSON */ }
      if (r.status === 400) { this.close(); this.h.status('error', msg, true); return; }
      if (r.status === 404) msg = 'no live sink in this configuration';
      this.h.status('error', msg);
    } catch {
      this.h.status('error', 'server unreachable');
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
  }
}

// abs resolves a path against the page's origin: fetch refuses a URL with
// credentials in it, which a relative path inherits from a page opened
// as http://user:password@host/.
export function abs(path) { return new URL(path, location.origin).href; }

export async function getJSON(path) {
  const r = await fetch(abs(path), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}
