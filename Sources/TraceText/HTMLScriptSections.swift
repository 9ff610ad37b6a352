extension HTMLPage {
    /// The page script's other sections (region statistics, counter charts,
    /// the log search, losses and diagnostics) and its entry point.
    static let sectionsScript = #"""
// Region statistics, counters, the log search, losses and diagnostics.
function regionSection() {
  const section = h('section', { class: 'block', id: 'regions' }, h('h2', null, 'Regions'),
    h('p', { class: 'explain' }, 'Durations of every ended region, by type. Click a column to sort.'));
  const rows = arr(R.regions);
  if (!rows.length) return add(section, h('p', { class: 'empty' }, 'No regions in this trace.'));
  const columns = [
    ['type', (r) => String(r.type)], ['count', (r) => num(r.count)], ['p50', (r) => num((r.latency || {}).p50)],
    ['p90', (r) => num((r.latency || {}).p90)], ['p99', (r) => num((r.latency || {}).p99)], ['max', (r) => num((r.latency || {}).max)],
    ['total', (r) => num((r.latency || {}).total)],
  ];
  let sortBy = 6, ascending = false;
  const body = h('tbody');
  const head = h('tr');
  const draw = () => {
    const key = columns[sortBy][1];
    const sorted = rows.slice().sort((a, b) => {
      const p = key(a), q = key(b);
      const c = typeof p === 'string' ? p.localeCompare(q) : (p === null ? -Infinity : p) - (q === null ? -Infinity : q);
      return ascending ? c : -c;
    });
    clear(body, sorted.map((r) => h('tr', null,
      h('td', null, h('span', { class: 'swatch', style: { background: colorOf(r.type) } }), String(r.type)),
      h('td', { class: 'num' }, count(r.count)),
      ['p50', 'p90', 'p99', 'max', 'total'].map((p) => h('td', { class: 'num' }, dur((r.latency || {})[p]))),
      h('td', null, spark(r.histogram)))));
    [...head.children].forEach((th, i) => {
      th.classList.toggle('sorted', i === sortBy);
      th.classList.toggle('asc', i === sortBy && ascending);
    });
  };
  columns.forEach(([name], i) => head.append(h('th', {
    class: 'sortable' + (i > 0 ? ' num' : ''),
    onclick: () => { ascending = sortBy === i ? !ascending : i === 0; sortBy = i; draw(); },
  }, name)));
  head.append(h('th', null, 'distribution'));
  draw();
  return add(section, h('div', { class: 'tablebox' }, h('table', { id: 'region-table' }, h('thead', null, head), body)));
}
function spark(buckets) {
  const list = arr(buckets);
  const most = Math.max(1, maxOf(list.map((b) => num(b.count) || 0)));
  return h('div', { class: 'spark', title: list.map((b) => dur(b.low) + '–' + dur(b.high) + ': ' + count(b.count)).join('\n') },
    list.map((b) => h('div', { style: { height: ((num(b.count) || 0) / most * 100) + '%' } })));
}

function counterSection() {
  const section = h('section', { class: 'block', id: 'counters' }, h('h2', null, 'Counters'),
    h('p', { class: 'explain' }, 'Samples over the trace (each value holds until the next sample). Move over a chart to read it.'));
  const list = arr(R.counters);
  if (!list.length) return add(section, h('p', { class: 'empty' }, 'No counters in this trace.'));
  const cards = h('div', { class: 'cards' });
  for (const c of list) cards.append(counterCard(c));
  return add(section, cards);
}
function counterCard(c) {
  const points = arr(c.series).filter((p) => Array.isArray(p) && num(p[0]) !== null && num(p[1]) !== null);
  const card = h('div', { class: 'card' }, h('h3', null, String(c.name)),
    h('div', { class: 'stats' }, processLabel(c.process), ' · ', plural(num(c.samples) || 0, 'sample'),
      ' · min ', h('b', null, value(c.min)), ' · max ', h('b', null, value(c.max)), ' · last ', h('b', null, value(c.last))));
  if (!points.length) return add(card, h('p', { class: 'empty' }, 'No samples embedded.'));
  const start = T0 !== null ? T0 : points[0][0];
  const end = num(TRACE.end) !== null && TRACE.end > start ? TRACE.end : Math.max(start + 1, points[points.length - 1][0]);
  let low = minOf(points.map((p) => p[1])), high = maxOf(points.map((p) => p[1]));
  if (num(c.min) !== null) low = Math.min(low, c.min);
  if (num(c.max) !== null) high = Math.max(high, c.max);
  if (high === low) { high += 1; low -= low === 0 ? 0 : 1; }
  const X = (t) => Math.min(1000, Math.max(0, (t - start) / (end - start) * 1000));
  const Y = (v) => 100 - (v - low) / (high - low) * 100;
  let d = 'M' + X(points[0][0]) + ' ' + Y(points[0][1]);
  for (let i = 1; i < points.length; i++) d += 'H' + X(points[i][0]) + 'V' + Y(points[i][1]);
  d += 'H' + X(end);
  const area = d + 'V100H' + X(points[0][0]) + 'Z';
  const cursor = h('div', { class: 'cursor', hidden: true });
  const readout = h('div', { class: 'readout' }, '\u00a0');
  const chart = h('div', { class: 'chart' },
    s('svg', { viewBox: '0 0 1000 100', preserveAspectRatio: 'none' },
      s('path', { d: area, fill: 'rgba(91, 141, 239, .15)', stroke: 'none' }),
      s('path', { d, fill: 'none', stroke: '#2f6fde', 'stroke-width': '1.5', 'vector-effect': 'non-scaling-stroke' })),
    h('div', { class: 'ylabel', style: { top: '-7px' } }, value(high)), h('div', { class: 'ylabel', style: { bottom: '-7px' } }, value(low)),
    [0, 0.25, 0.5, 0.75, 1].map((f) => h('div', { class: 'xtick' + (f === 1 ? ' end' : ''), style: { left: f * 100 + '%' } }, f === 0 ? '0' : '+' + dur((end - start) * f))),
    cursor);
  chart.addEventListener('mousemove', (event) => {
    const box = chart.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const t = start + f * (end - start);
    let lo = 0, hi = points.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (points[mid][0] <= t) lo = mid; else hi = mid - 1; }
    cursor.hidden = false;
    cursor.style.left = f * 100 + '%';
    clear(readout, points[lo][0] <= t ? offset(t) + ': ' + value(points[lo][1]) : offset(t) + ': before the first sample');
  });
  chart.addEventListener('mouseleave', () => { cursor.hidden = true; clear(readout, '\u00a0'); });
  return add(card, chart, readout);
}

const LOG_LIMIT = 500;
function logSection() {
  const section = h('section', { class: 'block', id: 'logs' }, h('h2', null, 'Logs'));
  const cats = arr(R.logs);
  if (!cats.length) return add(section, h('p', { class: 'empty' }, 'No logs in this trace.'));
  const all = cats.flatMap((c) => arr(c.examples).map((e) => Object.assign({ category: String(c.category) }, e)))
    .sort((a, b) => (num(a.time) || 0) - (num(b.time) || 0));
  const total = cats.reduce((n, c) => n + (num(c.count) || 0), 0);
  const filter = h('input', { type: 'search', id: 'log-filter', placeholder: 'Filter messages…', 'aria-label': 'Filter log messages' });
  const category = h('select', { id: 'log-category', 'aria-label': 'Category' }, h('option', { value: '' }, 'all categories'),
    cats.map((c) => h('option', { value: String(c.category) }, c.category + ' (' + count(c.count) + ')')));
  const note = h('span', { class: 'muted', id: 'log-count' });
  const body = h('tbody');
  const mark = (text, needle) => {
    if (!needle) return text;
    const out = [], lower = text.toLowerCase();
    let at = 0;
    for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, at)) {
      out.push(text.slice(at, i), h('mark', null, text.slice(i, i + needle.length)));
      at = i + needle.length;
    }
    out.push(text.slice(at));
    return out;
  };
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const only = category.value;
    const hits = all.filter((e) => (!only || e.category === only) &&
      (!needle || String(e.message).toLowerCase().includes(needle) || e.category.toLowerCase().includes(needle)));
    clear(note, plural(hits.length, 'example') + ' of ' + count(all.length) + ' embedded (' + plural(total, 'log') + ' in the trace)' +
      (hits.length > LOG_LIMIT ? '; the first ' + LOG_LIMIT + ' shown' : ''));
    clear(body, hits.slice(0, LOG_LIMIT).map((e) => h('tr', null,
      h('td', { class: 'num' }, offset(e.time)), h('td', null, mark(e.category, needle)),
      h('td', { class: 'muted' }, processLabel(e.process) + ' · thread ' + (e.thread === undefined ? '?' : e.thread)),
      h('td', { class: 'num' }, num(e.task) ? '#' + e.task : ''),
      h('td', null, mark(String(e.message), needle), e.truncated ? h('span', { class: 'faint' }, ' (truncated)') : ''))));
    for (const b of chips.children) b.classList.toggle('on', b.dataset.category === only);
    if (!hits.length) body.append(h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'No example matches.')));
  };
  const chips = h('div', { class: 'cats' }, cats.map((c) => h('button', {
    type: 'button', data: { category: String(c.category) }, title: 'show only ' + c.category,
    onclick: () => { category.value = category.value === String(c.category) ? '' : String(c.category); draw(); },
  }, c.category + ' ' + count(c.count))));
  filter.addEventListener('input', draw);
  category.addEventListener('change', draw);
  draw();
  return add(section,
    h('p', { class: 'explain' }, 'Counts per category, and a search over the messages the report embeds as examples.'),
    chips, h('div', { class: 'controls' }, filter, category, note),
    h('div', { class: 'tablebox scroll' }, h('table', { id: 'log-table' },
      h('thead', null, h('tr', null, ['time', 'category', 'where', 'task', 'message'].map((c) => h('th', null, c)))), body)));
}

function lossSection() {
  const section = h('section', { class: 'block', id: 'losses' }, h('h2', null, 'Losses & diagnostics'));
  const drops = arr(R.drops), misuse = arr(R.misuse), diags = arr(R.diagnostics);
  const dropTotal = drops.reduce((n, d) => n + (num(d.count) || 0), 0);
  add(section, h('div', { class: 'two' },
    h('div', null, h('h3', null, 'Dropped events'),
      drops.length ? h('div', { class: 'tablebox' }, h('table', { id: 'drop-table' },
        h('thead', null, h('tr', null, h('th', null, 'process'), h('th', null, 'reason'), h('th', { class: 'num' }, 'events'))),
        h('tbody', null, drops.map((d) => h('tr', null, h('td', null, processLabel(d.process, d.process === 0 ? null : d.pid, d.name)), h('td', null, String(d.reason)),
          h('td', { class: 'num' }, count(d.count)))),
        h('tr', null, h('td', null, h('b', null, 'total')), h('td'), h('td', { class: 'num' }, h('b', null, count(dropTotal)))))))
        : h('p', { class: 'empty' }, 'No event was dropped.')),
    h('div', null, h('h3', null, 'Region misuse'),
      misuse.length ? h('div', { class: 'tablebox' }, h('table', { id: 'misuse-table' },
        h('thead', null, h('tr', null, h('th', null, 'kind'), h('th', { class: 'num' }, 'count'), h('th', null, 'examples'))),
        h('tbody', null, misuse.map((m) => h('tr', null, h('td', null, String(m.kind)), h('td', { class: 'num' }, count(m.count)),
          h('td', null, arr(m.examples).map((e) => h('details', null,
            h('summary', null, String(e.type) + ' in ' + processLabel(e.process) + ' at ' + offset(e.begin)),
            h('div', { class: 'muted' }, [
              num(e.task) ? 'in task #' + e.task : 'in no task',
              num(e.thread) !== null ? 'begun on thread ' + e.thread : null,
              num(e.end) !== null ? 'ended at ' + offset(e.end) + (num(e.endThread) !== null ? ' on thread ' + e.endThread : '') : 'not ended',
            ].filter((x) => x).join(', ')),
            arr(e.stack).length ? h('pre', { class: 'frames' }, arr(e.stack).join('\n')) : h('span', { class: 'faint' }, 'no stack recorded')))))))))
        : h('p', { class: 'empty' }, 'No region was misused.'))));
  const orphans = num(R.orphanEnds) || 0, taskOrphans = num(R.taskEndsWithoutBegin) || 0;
  if (orphans || taskOrphans) {
    add(section, h('p', { id: 'orphan-ends', class: 'muted', style: { marginTop: '10px' } }, 'Ends whose begin is not in the trace (begun before tracing started, or the begin was dropped): ' +
      [orphans ? plural(orphans, 'region end') : null, taskOrphans ? plural(taskOrphans, 'task end') : null].filter((x) => x).join(', ') + '.'));
  }
  add(section, h('h3', { style: { marginTop: '14px' } }, 'Reader diagnostics'),
    diags.length ? h('div', { class: 'tablebox' }, h('table', { id: 'diagnostic-table' },
      h('thead', null, h('tr', null, h('th', null, 'file'), h('th', { class: 'num' }, 'offset'), h('th', null, 'problem'))),
      h('tbody', null, diags.map((d) => h('tr', null, h('td', { class: 'mono' }, String(d.file)), h('td', { class: 'num' }, count(d.offset)),
        h('td', null, String(d.problem)))))))
      : h('p', { class: 'empty' }, 'The files read cleanly.'));
  return section;
}

summary();
byId('app').replaceChildren(...[taskSection(), executionSection(), regionSection(), counterSection(), logSection(), lossSection()]
  .filter((x) => x));
document.body.dataset.ready = '1';
"""# + "\n"
}
