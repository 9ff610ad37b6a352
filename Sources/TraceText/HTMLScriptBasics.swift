extension HTMLPage {
    /// The page script's basics: DOM and number helpers, the header, and the
    /// hand-off of the embedded export to the Perfetto UI.
    static let basicsScript = #"""
'use strict';
// The report page: every number comes from the JSON in #report, every
// element is built with the DOM (never innerHTML: log messages and type
// names are the traced service's data).
const R = JSON.parse(document.getElementById('report').textContent);
const TRACE = R.trace || {};
const SIG = Math.min(6, Math.max(1, Math.round(num((R.precision || {}).significantDigits) || 3)));
const T0 = num(TRACE.start);

// Minimum and maximum without spreading a list into arguments (a task
// can have more regions than a call takes arguments).
function minOf(list) { let m = Infinity; for (const v of list) if (v < m) m = v; return m; }
function maxOf(list) { let m = -Infinity; for (const v of list) if (v > m) m = v; return m; }
function num(x) { return typeof x === 'number' && Number.isFinite(x) ? x : null; }
function arr(x) { return Array.isArray(x) ? x : []; }
function byId(id) { return document.getElementById(id); }

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  add(el, kids);
  return el;
}
function s(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  add(el, kids);
  return el;
}
function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k === 'data') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}
function add(el, ...kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
  return el;
}
function clear(el, ...kids) { el.replaceChildren(); return add(el, kids); }

// Numbers, to the report's significant digits.
function sig(x) { return x === 0 ? '0' : String(Number(x.toPrecision(SIG))); }
const UNITS = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
function dur(ns) {
  ns = num(ns);
  if (ns === null) return '–';
  const a = Math.abs(ns);
  for (let i = 0; i < UNITS.length; i++) {
    const [d, u] = UNITS[i];
    if (a >= d || d === 1) {
      const v = Number((ns / d).toPrecision(SIG));
      if (Math.abs(v) >= 1000 && i > 0) return sig(ns / UNITS[i - 1][0]) + ' ' + UNITS[i - 1][1];
      return (d === 1 ? String(Math.round(ns)) : String(v)) + ' ' + u;
    }
  }
  return String(ns);
}
function offset(t) { t = num(t); return t === null || T0 === null ? '–' : '+' + dur(t - T0); }
function count(n) { n = num(n); return n === null ? '–' : n.toLocaleString('en-US'); }
function value(v) { v = num(v); return v === null ? '–' : Number.isInteger(v) ? count(v) : sig(v); }
function bytes(n) {
  n = num(n);
  if (n === null) return '–';
  const units = [[1 << 30, 'GiB'], [1 << 20, 'MiB'], [1 << 10, 'KiB']];
  for (const [d, u] of units) if (n >= d) return sig(n / d) + ' ' + u;
  return count(n) + ' bytes';
}
function plural(n, one, many) { return count(n) + ' ' + (n === 1 ? one : many || one + 's'); }

// Processes by the trace's process number.
const PROCESSES = new Map(arr(TRACE.processes).map((p) => [p.process, p]));
function processLabel(p, pid, fallbackName) {
  const known = PROCESSES.get(p);
  const name = known && known.name ? known.name : fallbackName ? String(fallbackName) : 'process ' + p;
  const id = pid !== undefined && pid !== null ? pid : known ? known.pid : null;
  return id === null || id === undefined ? name : name + ' (pid ' + id + ')';
}

function processName(p) { const known = PROCESSES.get(p); return known && known.name ? known.name : 'process ' + p; }

// One colour per region type, the same in every view: palette slots go to
// types in the order of the region table (the most total time first).
const PALETTE = ['#7aa6f0', '#f0a35e', '#6cc5a0', '#d98ac9', '#e8d067', '#8fb8d8', '#c7a27c', '#a99be6',
  '#f08a8a', '#9fd17a', '#72c7d3', '#d4a5a5', '#b5b5e0', '#e2b56e', '#86c49a', '#c9c27a'];
const COLORS = new Map();
arr(R.regions).forEach((r, i) => { if (i < PALETTE.length) COLORS.set(r.type, PALETTE[i]); });
function colorOf(type) {
  if (!COLORS.has(type)) {
    let hash = 0;
    for (const c of String(type)) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
    COLORS.set(type, 'hsl(' + (hash % 360) + ', 55%, 70%)');
  }
  return COLORS.get(type);
}

// A shell word for the command lines the page suggests.
function shellWord(w) { return /^[\w.\/@%+=:,-]+$/.test(w) ? w : "'" + String(w).replace(/'/g, "'\\''") + "'"; }
function exportCommand() {
  const files = arr(TRACE.files);
  return 'tracectl export --format perfetto ' + (files.length ? files.map(shellWord).join(' ') : 'FILE') + ' -o trace.pftrace';
}

// "Nice" tick steps (1, 2, 5 × 10^k) for a linear axis of the given span.
function niceStep(span, ticks) {
  const raw = span / Math.max(1, ticks);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function summary() {
  const files = arr(TRACE.files);
  const drops = num(R.droppedEvents) !== null ? R.droppedEvents : arr(R.drops).reduce((a, d) => a + (num(d.count) || 0), 0);
  const f = R.filters || {};
  const filters = [
    arr(f.processes).length ? 'process ' + arr(f.processes).join(', ') : null,
    arr(f.taskTypes).length ? 'task type ' + arr(f.taskTypes).join(', ') : null,
    num(f.since) !== null ? 'since +' + dur(f.since) : null,
    num(f.until) !== null ? 'until +' + dur(f.until) : null,
  ].filter((x) => x);
  const misuse = arr(R.misuse).reduce((a, m) => a + (num(m.count) || 0), 0);
  const diags = arr(R.diagnostics).length;
  const header = h('header', { class: 'top' },
    h('div', null,
      h('h1', null, 'traced report'),
      h('div', { class: 'files' }, files.join('  ')),
      h('div', { class: 'chips' },
        h('span', { class: 'chip' }, plural(num(TRACE.events) || 0, 'event')),
        h('span', { class: 'chip' }, 'over ' + dur(TRACE.duration)),
        arr(TRACE.processes).map((p) => h('span', { class: 'chip', title: plural(num(p.events) || 0, 'event') },
          processLabel(p.process, p.pid) + ', ' + plural(num(p.threads) || 0, 'thread'))),
        h('span', { class: 'chip' + (drops ? ' bad' : '') }, plural(drops, 'event') + ' dropped'),
        misuse ? h('span', { class: 'chip bad' }, plural(misuse, 'region misuse', 'region misuses')) : null,
        diags ? h('span', { class: 'chip bad' }, plural(diags, 'reader diagnostic')) : null,
        filters.length ? h('span', { class: 'chip', id: 'filters' }, 'only ' + filters.join(' · ')) : null)),
    perfettoBox());
  if (R.format !== 'traced-report' || num(R.version) !== 1) {
    header.append(h('p', { class: 'chip bad' }, 'This page reads reports of format traced-report version 1, not ' +
      String(R.format) + ' version ' + String(R.version) + ': what it shows may be incomplete.'));
  }
  document.body.prepend(header,
    h('nav', { class: 'sections' },
      [['tasks', 'Tasks'], R.execution ? ['execution', 'Where the time went'] : null, ['regions', 'Regions'], ['counters', 'Counters'],
        ['logs', 'Logs'], ['losses', 'Losses & diagnostics']]
        .filter((x) => x).map(([id, name]) => h('a', { href: '#' + id }, name))));
  document.title = 'traced report' + (files.length ? ': ' + files.join(', ') : '');
}
// "Open in Perfetto UI": the page opens ui.perfetto.dev in a new window and
// hands it the embedded export with the UI's postMessage protocol
// (perfetto.dev/docs/visualization/deep-linking-to-perfetto-ui): the
// channel is not buffered, so the page sends 'PING' until the UI answers
// 'PONG', then posts {perfetto: {buffer, title, fileName}} to its origin.
const PERFETTO_ORIGIN = 'https://ui.perfetto.dev';
const PING_INTERVAL_MS = 100;
const PONG_TIMEOUT_MS = 20000;

function perfettoBox() {
  const embedded = byId('perfetto');
  const box = h('div', { id: 'perfetto-box' });
  if (!embedded) {
    const omitted = byId('perfetto-omitted');
    const size = omitted ? num(Number(omitted.dataset.omittedBytes)) : null;
    add(box,
      h('p', null, size !== null
        ? 'The Perfetto export of this trace (' + bytes(size) + ') is too big to embed in this page. '
        : 'This page has no Perfetto export embedded. '),
      h('p', null, 'Run ', h('code', null, exportCommand()), ' and open trace.pftrace at ',
        h('a', { href: PERFETTO_ORIGIN, target: '_blank', rel: 'noopener noreferrer' }, 'ui.perfetto.dev'),
        ' with “Open trace file”.'));
    box.dataset.perfetto = 'omitted';
    return box;
  }
  const status = h('p', { id: 'perfetto-status', class: 'muted' });
  const open = h('button', { class: 'btn', id: 'open-perfetto', type: 'button' }, 'Open in Perfetto UI');
  const save = h('button', { class: 'btn ghost', id: 'save-perfetto', type: 'button' }, 'Save trace (.pftrace)');
  open.addEventListener('click', () => openInPerfetto(embedded, status));
  save.addEventListener('click', () => saveExport(embedded));
  box.dataset.perfetto = 'embedded';
  return add(box, h('div', { class: 'actions' }, open, save), status);
}

function exportBytes(script) {
  const text = atob(script.textContent.replace(/\s+/g, ''));
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
function exportName() {
  const first = arr(TRACE.files)[0];
  return first ? String(first).replace(/^.*\//, '').replace(/\.trace$/, '') + '.pftrace' : 'trace.pftrace';
}

function saveExport(script) {
  const url = URL.createObjectURL(new Blob([exportBytes(script)], { type: 'application/octet-stream' }));
  const link = h('a', { href: url, download: exportName(), style: { display: 'none' } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function openInPerfetto(script, status) {
  const ui = window.open(PERFETTO_ORIGIN);
  if (!ui) {
    clear(status, 'The browser blocked the new window: allow pop-ups for this page and click again, or save the trace and open it at ui.perfetto.dev (“Open trace file”).');
    return;
  }
  const buffer = exportBytes(script).buffer;
  const started = Date.now();
  clear(status, 'Waiting for Perfetto UI to answer…');
  let timer = null;
  const stop = (message) => {
    clearInterval(timer);
    window.removeEventListener('message', onMessage);
    clear(status, message);
  };
  const onMessage = (event) => {
    if (event.source !== ui || event.data !== 'PONG') return;
    stop('Handed the trace to Perfetto UI (' + bytes(buffer.byteLength) + ').');
    ui.postMessage({ perfetto: { buffer, title: 'traced: ' + arr(TRACE.files).join(', '), fileName: exportName() } }, PERFETTO_ORIGIN);
  };
  window.addEventListener('message', onMessage);
  timer = setInterval(() => {
    if (ui.closed) return stop('The Perfetto UI window was closed before it answered.');
    if (Date.now() - started > PONG_TIMEOUT_MS) {
      return stop('Perfetto UI did not answer. Browsers do not always let a page opened from a file hand a trace to another site: ' +
        'serve this page from localhost (for example python3 -m http.server), or save the trace and open it at ui.perfetto.dev (“Open trace file”).');
    }
    // Until ui.perfetto.dev has loaded, the window is about:blank and a
    // message for PERFETTO_ORIGIN would be refused: PING only once the
    // window is no longer readable from here, that is, another origin.
    try { if (ui.location.href === 'about:blank') return; } catch (crossOrigin) { /* loaded */ }
    ui.postMessage('PING', PERFETTO_ORIGIN);
  }, PING_INTERVAL_MS);
}
"""# + "\n"
}
