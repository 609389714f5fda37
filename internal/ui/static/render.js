// Rendering of one log line: ANSI colours, match highlighting, JSON trees.
// Everything is built as DOM nodes and text nodes, never as HTML strings:
// a log line is data, and must not be able to inject markup.

const ESC = /\x1b\[([0-9;]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f\x7f]/g;

// ansiSegments splits text at SGR escapes into [{text, cls}]; other escape
// sequences and control characters are dropped.
export function ansiSegments(text) {
  if (text.indexOf('\x1b') < 0 && !/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) return [{ text, cls: '' }];
  const out = [];
  let st = { b: false, i: false, u: false, d: false, f: -1, bg: -1 };
  let last = 0;
  ESC.lastIndex = 0;
  for (let m; (m = ESC.exec(text));) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), cls: sgrClass(st) });
    last = ESC.lastIndex;
    if (m[2] === 'm') st = applySGR(st, m[1]);
  }
  if (last < text.length) out.push({ text: text.slice(last), cls: sgrClass(st) });
  return out;
}

function applySGR(st, params) {
  const s = { ...st };
  const codes = params === '' ? [0] : params.split(';').map(Number);
  for (let k = 0; k < codes.length; k++) {
    const c = codes[k];
    if (c === 0) Object.assign(s, { b: false, i: false, u: false, d: false, f: -1, bg: -1 });
    else if (c === 1) s.b = true;
    else if (c === 2) s.d = true;
    else if (c === 3) s.i = true;
    else if (c === 4) s.u = true;
    else if (c === 22) { s.b = false; s.d = false; }
    else if (c === 23) s.i = false;
    else if (c === 24) s.u = false;
    else if (c >= 30 && c <= 37) s.f = c - 30;
    else if (c === 39) s.f = -1;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c === 49) s.bg = -1;
    else if (c >= 90 && c <= 97) s.f = c - 90 + 8;
    else if (c === 38 || c === 48) {
      // 256-colour and true-colour: mapped to the nearest of the 16.
      if (codes[k + 1] === 5) { const n = codes[k + 2] | 0; if (c === 38) s.f = n < 16 ? n : 7; k += 2; }
      else if (codes[k + 1] === 2) k += 4;
    }
  }
  return s;
}

function sgrClass(s) {
  let c = '';
  if (s.b) c += ' a-b';
  if (s.i) c += ' a-i';
  if (s.u) c += ' a-u';
  if (s.d) c += ' a-d';
  if (s.f >= 0) c += ' f' + s.f;
  if (s.bg >= 0 && s.bg < 8) c += ' b' + s.bg;
  return c.trim();
}

// highlighter compiles the server-side RE2 filter for the browser; RE2's
// (?i) prefix becomes the i flag. A pattern JavaScript cannot compile
// highlights nothing (the server still filters).
export function highlighter(grep, icase) {
  if (!grep) return null;
  let src = grep, flags = 'g';
  if (icase) flags += 'i';
  const m = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (m) { src = src.slice(m[0].length); if (m[1].includes('i')) flags += flags.includes('i') ? '' : 'i'; if (m[1].includes('s')) flags += 's'; }
  try { return new RegExp(src, flags); } catch { return null; }
}

function matchRanges(re, text) {
  const r = [];
  re.lastIndex = 0;
  for (let m, n = 0; (m = re.exec(text)) && n < 200; n++) {
    if (m[0] === '') { re.lastIndex++; continue; }
    r.push(m.index, m.index + m[0].length);
  }
  return r;
}

// appendText adds text to el, with ANSI colours and the matches of re
// wrapped in <mark>.
export function appendText(el, text, re) {
  const segs = ansiSegments(text);
  const ranges = re ? matchRanges(re, segs.length === 1 ? segs[0].text : segs.map((s) => s.text).join('')) : [];
  let off = 0, ri = 0;
  for (const seg of segs) {
    let target = el;
    if (seg.cls) { target = document.createElement('span'); target.className = seg.cls; el.appendChild(target); }
    let pos = 0;
    const t = seg.text;
    while (pos < t.length) {
      while (ri < ranges.length && ranges[ri + 1] <= off + pos) ri += 2;
      if (ri >= ranges.length || ranges[ri] >= off + t.length) { target.appendChild(document.createTextNode(t.slice(pos))); break; }
      const ms = Math.max(ranges[ri] - off, pos), me = Math.min(ranges[ri + 1] - off, t.length);
      if (ms > pos) target.appendChild(document.createTextNode(t.slice(pos, ms)));
      const mk = document.createElement('mark');
      mk.textContent = t.slice(ms, me);
      target.appendChild(mk);
      pos = me;
    }
    off += t.length;
  }
}

// plainText is text without its escape sequences (for facets and columns).
export function plainText(text) {
  return text.indexOf('\x1b') < 0 ? text : text.replace(ESC, '');
}

// jsonTree renders v pretty-printed, every object and array foldable.
export function jsonTree(v, depth = 0) {
  const el = document.createElement('span');
  el.className = 'json';
  node(el, v, depth);
  return el;
}

function tok(parent, cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  parent.appendChild(s);
}

function node(parent, v, depth) {
  if (v === null || typeof v === 'boolean') return tok(parent, 'l', String(v));
  if (typeof v === 'number') return tok(parent, 'n', String(v));
  if (typeof v === 'string') return tok(parent, 's', JSON.stringify(v));
  const arr = Array.isArray(v);
  const keys = arr ? null : Object.keys(v);
  const n = arr ? v.length : keys.length;
  const [open, close] = arr ? ['[', ']'] : ['{', '}'];
  if (n === 0) return tok(parent, 'p', open + close);
  const wrap = document.createElement('span');
  wrap.className = 'jnode' + (depth >= 3 ? ' collapsed' : '');
  const f = document.createElement('span');
  f.className = 'fold';
  f.textContent = depth >= 3 ? '▸' : '▾';
  f.dataset.fold = '1';
  wrap.appendChild(f);
  tok(wrap, 'p', open);
  const summary = document.createElement('span');
  summary.className = 'jc p';
  summary.textContent = ` ${n} ${arr ? (n === 1 ? 'item' : 'items') : (n === 1 ? 'key' : 'keys')} ${close}`;
  wrap.appendChild(summary);
  const block = document.createElement('span');
  block.className = 'jblock';
  for (let i = 0; i < n; i++) {
    const line = document.createElement('span');
    line.className = 'jl';
    if (!arr) { tok(line, 'k', JSON.stringify(keys[i])); tok(line, 'p', ': '); }
    node(line, arr ? v[i] : v[keys[i]], depth + 1);
    if (i < n - 1) tok(line, 'p', ',');
    block.appendChild(line);
  }
  wrap.appendChild(block);
  const end = document.createElement('span');
  end.className = 'jblock-end';
  tok(end, 'p', close);
  wrap.appendChild(end);
  parent.appendChild(wrap);
}

// toggleFold handles a click on a fold marker; true if it was one.
export function toggleFold(target) {
  if (!target.dataset || !target.dataset.fold) return false;
  const n = target.parentElement;
  const c = n.classList.toggle('collapsed');
  target.textContent = c ? '▸' : '▾';
  return true;
}

// hue gives each stream a stable colour.
export function hue(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) { h ^= name.charCodeAt(i); h = Math.imul(h, 16777619); }
  return (h >>> 0) % 360;
}
