// Fields of a line, for columns and facets (the Logdy model): the event's
// own fields, or the keys of a JSON or logfmt message. Parsed once per
// line, on first use, and kept on the line.

import { plainText } from './render.js';

const RESERVED = new Set(['timestamp', 'host', 'stream', 'message']);
const LOGFMT = /([A-Za-z_][\w.\-/]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)/g;

export function fieldsOf(l) {
  if (l._f) return l._f;
  const map = new Map();
  let json;
  const ev = l.event || {};
  for (const k in ev) if (!RESERVED.has(k)) map.set(k, ev[k]);
  const m = l.msg || '';
  const c = m.charCodeAt(0);
  if ((c === 123 || c === 91) && m.length > 1) { // { or [
    try { json = JSON.parse(m); } catch { json = undefined; }
    if (json && typeof json === 'object' && !Array.isArray(json)) for (const k in json) if (!map.has(k)) map.set(k, json[k]);
  } else if (m.indexOf('=') > 0) {
    const t = plainText(m);
    let n = 0;
    LOGFMT.lastIndex = 0;
    const found = [];
    for (let x; (x = LOGFMT.exec(t)) && n < 64; n++) found.push([x[1], x[2]]);
    if (found.length >= 2) for (const [k, v] of found) if (!map.has(k)) map.set(k, v[0] === '"' ? unquote(v) : v);
  }
  l._f = { map, json, keys: [...map.keys()], count: map.size };
  return l._f;
}

function unquote(v) { try { return JSON.parse(v); } catch { return v.slice(1, -1); } }

export function fieldValue(l, key) {
  const v = fieldsOf(l).map.get(key);
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}

const LEVEL_KEYS = ['level', 'lvl', 'severity', 'loglevel'];
const ERR = /\b(error|err|fatal|panic|crit|critical|alert|emerg)\b/i;
const WARN = /\b(warn|warning)\b/i;

// level is 'error', 'warn' or '' for a line, from a level field or words
// in the message, to mark rows at a glance.
export function level(l) {
  const f = fieldsOf(l).map;
  for (const k of LEVEL_KEYS) {
    const v = f.get(k);
    if (typeof v === 'string') return ERR.test(v) ? 'error' : WARN.test(v) ? 'warn' : '';
  }
  const m = l.msg.length > 400 ? l.msg.slice(0, 400) : l.msg;
  return ERR.test(m) ? 'error' : WARN.test(m) ? 'warn' : '';
}

// Facets counts field names and, for the chosen columns, their values
// over the lines in the page.
export class Facets {
  compute(lines, cols) {
    const fieldCount = new Map();
    const counts = new Map(cols.map((c) => [c, new Map()]));
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (l.marker) continue;
      const f = fieldsOf(l);
      if (i >= lines.length - 500) for (const k of f.keys) fieldCount.set(k, (fieldCount.get(k) || 0) + 1);
      for (const [c, m] of counts) { const v = fieldValue(l, c); m.set(v, (m.get(v) || 0) + 1); }
    }
    const facets = new Map();
    for (const [c, m] of counts) facets.set(c, [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 12));
    const fields = [...fieldCount].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((x) => x[0]).slice(0, 40);
    return { fields, facets };
  }
}
