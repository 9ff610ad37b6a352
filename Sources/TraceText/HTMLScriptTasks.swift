extension HTMLPage {
    /// The page script's task section: latency histograms per task type and
    /// the paginated list of a bucket's sampled tasks.
    static let tasksScript = #"""
// Tasks: per type a latency histogram over log-scale buckets; a bucket
// lists its sampled tasks (PAGE_SIZE a page); a task shows its timeline.
const PAGE_SIZE = 50;
const SAMPLES = R.taskSamples && typeof R.taskSamples === 'object' ? R.taskSamples : {};
const state = { type: null, bucket: -1, page: 0, tasks: [], selected: null };

// Every sampled tree (children too) by "process:id", for the slowest lists.
const SAMPLED = new Map();
(function index(trees) {
  for (const t of trees) {
    if (!t || typeof t !== 'object') continue;
    SAMPLED.set(t.process + ':' + t.id, t);
    index(arr(t.children));
  }
})(Object.values(SAMPLES).flatMap((buckets) => arr(buckets).flatMap((b) => arr(b.tasks))));

function samplesFor(type, bucket) {
  return arr(SAMPLES[type]).find((b) => b.low === bucket.low && b.high === bucket.high) || null;
}

// A histogram over log-scale buckets: x is log(duration), so buckets keep
// their true widths and empty ranges show as gaps.
function histogram(buckets, options) {
  const opts = options || {};
  const valid = arr(buckets).filter((b) => num(b.high) !== null && num(b.low) !== null && b.high > 0);
  const box = h('div', { class: 'hist' + (opts.compact ? ' compact' : '') });
  if (!valid.length) return add(box, h('div', { class: 'empty' }, 'no durations'));
  let lo = Math.max(1, minOf(valid.map((b) => b.low > 0 ? b.low : b.high / 2)));
  let hi = maxOf(valid.map((b) => b.high));
  // At least a decade across, so that one or two buckets do not fill it.
  if (!opts.compact && hi / lo < 10) { const pad = Math.sqrt(10 / (hi / lo)); lo = Math.max(1, lo / pad); hi = lo * 10; }
  const L = Math.log(lo), span = Math.log(hi) - L || 1;
  const x = (v) => Math.min(100, Math.max(0, (Math.log(Math.max(v, lo)) - L) / span * 100));
  const most = Math.max(1, maxOf(valid.map((b) => num(b.count) || 0)));
  const plot = h('div', { class: 'plot' });
  arr(buckets).forEach((b, i) => {
    if (!valid.includes(b)) return;
    const left = x(Math.max(b.low, lo)), width = Math.max(0.4, x(b.high) - left);
    const bar = h(opts.onPick ? 'button' : 'div', {
      class: 'bucket', type: opts.onPick ? 'button' : null,
      title: dur(b.low) + ' – ' + dur(b.high) + ': ' + plural(num(b.count) || 0, opts.noun || 'task'),
      style: { left: left + '%', width: width + '%' }, data: { bucket: String(i) },
    }, h('div', { class: 'fill', style: { height: ((num(b.count) || 0) / most * 100) + '%' } }));
    if (opts.onPick) bar.addEventListener('click', () => opts.onPick(i));
    plot.append(bar);
  });
  if (!opts.compact) {
    // One dashed line per distinct value, its percentiles named together.
    const marks = [];
    for (const p of ['p50', 'p90', 'p99']) {
      const v = num((opts.latency || {})[p]);
      if (v === null || v <= 0) continue;
      const same = marks.find((m) => m.v === v);
      if (same) same.names.push(p); else marks.push({ v, names: [p] });
    }
    marks.forEach(({ v, names }, row) => plot.append(h('div', { class: 'pmark' + (x(v) > 75 ? ' flip' : ''), style: { left: x(v) + '%' } },
      h('span', { style: { top: row * 10 + 'px' }, title: names.join(', ') + ': ' + dur(v) }, names.join(' ')))));
    for (const t of logTicks(lo, hi)) plot.append(h('div', { class: 'xtick' + (x(t) > 94 ? ' end' : ''), style: { left: x(t) + '%' } }, dur(t)));
    plot.append(h('div', { class: 'ylabel', style: { top: '-6px' } }, count(most)), h('div', { class: 'ylabel', style: { bottom: '-6px' } }, '0'));
  }
  return add(box, plot);
}
function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); Math.pow(10, e) <= hi; e++) {
    for (const m of [1, 2, 5]) { const v = m * Math.pow(10, e); if (v >= lo && v <= hi) out.push(v); }
  }
  const decades = out.filter((v) => Math.abs(Math.log10(v) % 1) < 1e-9);
  return decades.length >= 3 ? decades : out.length > 8 ? out.filter((_, i) => i % 2 === 0) : out;
}

function taskSection() {
  const types = arr(R.tasks);
  const section = h('section', { class: 'block', id: 'tasks' }, h('h2', null, 'Tasks'),
    h('p', { class: 'explain' }, 'Latency from creation to first end, per task type, over log-scale buckets. Click a bucket to list its tasks; click a task for its timeline.'));
  if (!types.length) return add(section, h('p', { class: 'empty' }, 'No tasks in this trace.'));
  const cards = h('div', { class: 'cards' });
  for (const t of types) {
    const lat = t.latency || {};
    const card = h('div', { class: 'card', data: { taskType: String(t.type) } },
      h('h3', null, String(t.type)),
      h('div', { class: 'stats' }, h('b', null, count(t.count)), t.count === 1 ? ' task' : ' tasks',
        num(t.unfinished) ? ' · ' + count(t.unfinished) + ' not ended' : '',
        ' · mean ', h('b', null, dur(lat.mean)), ' · p50 ', h('b', null, dur(lat.p50)), ' · p90 ', h('b', null, dur(lat.p90)),
        ' · p99 ', h('b', null, dur(lat.p99)), ' · max ', h('b', null, dur(lat.max))),
      histogram(t.histogram, { latency: lat, onPick: (i) => pickBucket(t, i) }),
      slowestList(t));
    cards.append(card);
  }
  return add(section, cards, h('div', { id: 'task-detail', hidden: true },
    h('div', { class: 'pane', id: 'bucket-pane' }), h('div', { class: 'pane', id: 'timeline-pane' })));
}

function slowestList(t) {
  const rows = arr(t.slowest);
  if (!rows.length) return null;
  return h('details', { class: 'slowest' }, h('summary', null, 'Slowest ' + rows.length),
    h('table', null, h('tbody', null, rows.map((r) => {
      const tree = SAMPLED.get(r.process + ':' + r.id);
      return h('tr', { class: tree ? 'pick' : null, title: tree ? 'show its timeline' : 'not among the sampled tasks',
        onclick: tree ? () => openSampled(t, tree) : null },
      h('td', null, '#' + r.id), h('td', null, processLabel(r.process)), h('td', { class: 'num' }, offset(r.begin)),
      h('td', { class: 'num' }, dur(r.latency)));
    }))));
}

function openSampled(type, tree) {
  const i = arr(type.histogram).findIndex((b) => tree.latency >= b.low && tree.latency < b.high);
  if (i >= 0) pickBucket(type, i, tree);
  showTask(tree, []);
}

function pickBucket(type, index, focus) {
  const bucket = arr(type.histogram)[index];
  state.type = type; state.bucket = index; state.selected = null;
  const sample = samplesFor(type.type, bucket);
  state.tasks = arr(sample && sample.tasks).slice().sort((a, b) => (num(b.latency) || 0) - (num(a.latency) || 0));
  const at = focus ? state.tasks.indexOf(focus) : -1;
  state.page = at >= 0 ? Math.floor(at / PAGE_SIZE) : 0;
  for (const el of document.querySelectorAll('.bucket.selected')) el.classList.remove('selected');
  const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.taskType === String(type.type));
  const bar = card && card.querySelector('.bucket[data-bucket="' + index + '"]');
  if (bar) bar.classList.add('selected');
  byId('task-detail').hidden = false;
  renderBucket(sample, bucket);
  if (!focus) clear(byId('timeline-pane'), h('p', { class: 'empty' }, 'Click a task to see its timeline.'));
}

function renderBucket(sample, bucket) {
  const pane = byId('bucket-pane');
  const total = sample ? num(sample.total) || state.tasks.length : num(bucket.count) || 0;
  const pages = Math.max(1, Math.ceil(state.tasks.length / PAGE_SIZE));
  state.page = Math.min(state.page, pages - 1);
  const first = state.page * PAGE_SIZE, shown = state.tasks.slice(first, first + PAGE_SIZE);
  const redraw = (page) => { state.page = page; renderBucket(sample, bucket); };
  // The process column only when the bucket's tasks come from several.
  const processes = new Set(state.tasks.map((t) => t.process));
  const several = processes.size > 1;
  clear(pane,
    h('h3', null, String(state.type.type) + ': ' + dur(bucket.low) + ' – ' + dur(bucket.high)),
    several || !state.tasks.length ? null : h('p', { class: 'muted' }, 'In ' + processLabel(state.tasks[0].process, state.tasks[0].pid) + '.'),
    h('p', { class: 'muted' }, plural(total, 'task') + ' in this bucket' + (!state.tasks.length ? '.'
      : (state.tasks.length < total ? ', ' + count(state.tasks.length) + ' of them sampled in the report' : '') + '; slowest first.')),
    state.tasks.length ? h('div', { class: 'scroll' }, h('table', { id: 'bucket-tasks' },
      h('thead', null, h('tr', null, h('th', null, 'task'), several ? h('th', null, 'process') : null,
        ['begins', 'latency', 'regions', 'children'].map((c) => h('th', { class: 'num' }, c)))),
      h('tbody', null, shown.map((t) => {
        const row = h('tr', { class: 'pick task-row' + (t === state.selected ? ' selected' : ''), data: { task: t.process + ':' + t.id } },
          h('td', null, '#' + t.id), several ? h('td', { title: processLabel(t.process, t.pid) }, processName(t.process)) : null,
          h('td', { class: 'num' }, offset(t.begin)),
          h('td', { class: 'num' }, t.end === null || t.end === undefined ? 'not ended' : dur(t.latency)),
          h('td', { class: 'num' }, count(countRegions(arr(t.regions)))), h('td', { class: 'num' }, count(arr(t.children).length)));
        row.addEventListener('click', () => { state.selected = t; renderBucket(sample, bucket); showTask(t, []); });
        return row;
      }))))
      : h('p', { class: 'empty' }, 'The report holds no sampled tasks for this bucket.'),
    pages > 1 ? h('div', { class: 'pager' },
      h('button', { class: 'btn ghost small', type: 'button', disabled: state.page === 0, onclick: () => redraw(state.page - 1) }, '‹ previous'),
      h('span', null, 'tasks ' + count(first + 1) + '–' + count(first + shown.length) + ' of ' + count(state.tasks.length) + ', page ' + (state.page + 1) + ' of ' + pages),
      h('button', { class: 'btn ghost small', type: 'button', disabled: state.page >= pages - 1, onclick: () => redraw(state.page + 1) }, 'next ›'))
      : null);
}
function countRegions(regions) { return regions.reduce((n, r) => n + 1 + countRegions(arr(r.children)), 0); }
"""# + "\n"
}
