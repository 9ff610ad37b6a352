extension HTMLPage {
    /// The page script's task timeline: regions on rows by depth, its
    /// threads' states (kernel events), logs, child tasks, and where the
    /// task's time went.
    static let timelineScript = #"""
// A task's timeline: its regions as bars on rows by depth, one group of
// rows per Swift task (or thread outside Swift tasks), under each group the
// states of its threads (traces with kernel events), its logs as markers
// and its child tasks; then where its time went.
function showTask(tree, trail) {
  const pane = byId('timeline-pane');
  byId('task-detail').hidden = false;
  const end = num(tree.end);
  const regions = [];
  (function flatten(list, depth) {
    for (const r of arr(list)) { regions.push({ r, depth }); flatten(r.children, depth + 1); }
  })(tree.regions, 0);
  const logs = arr(tree.logs), children = arr(tree.children);
  // The span shown: the task, widened to whatever of it lies outside.
  const times = [num(tree.begin), end];
  for (const { r } of regions) times.push(num(r.begin), num(r.end));
  for (const l of logs) times.push(num(l.time));
  for (const c of children) times.push(num(c.begin), num(c.end));
  const known = times.filter((t) => t !== null);
  if (!known.length) known.push(0);
  const t0 = minOf(known);
  let t1 = maxOf(known);
  if (!(t1 > t0)) t1 = t0 + 1;
  const x = (t) => (t - t0) / (t1 - t0) * 100;
  const base = num(tree.begin) !== null ? tree.begin : t0;
  const rel = (t) => (t - base >= 0 ? '+' : '−') + dur(Math.abs(t - base));
  const threads = new Map(arr(tree.threads).map((t) => [t.tid, t.name]));
  const threadName = (tid) => tid === null || tid === undefined ? 'thread ?' : (threads.get(tid) ? threads.get(tid) + ' (' + tid + ')' : 'thread ' + tid);
  const info = h('div', { class: 'info', id: 'timeline-info' }, h('span', { class: 'faint' }, 'Click a bar or a log marker for details.'));

  const grid = h('div', { class: 'tl', id: 'timeline' });
  const step = niceStep(t1 - t0, 6);
  const gridLines = [];
  for (let v = 0; base + v <= t1; v += step) if (base + v >= t0) gridLines.push(base + v);
  const row = (label, first, bars, title) => {
    grid.append(h('div', { class: 'lab' + (first ? ' first' : ''), title: title || label }, label),
      add(h('div', { class: 'track' + (first ? ' first' : '') }, gridLines.map((g) => h('div', { class: 'grid', style: { left: x(g) + '%' } }))), bars));
  };
  grid.append(h('div', { class: 'lab' }, ''),
    h('div', { class: 'track axis' }, gridLines.map((g) => h('div', { class: 'xtick' + (x(g) > 94 ? ' end' : ''), style: { left: x(g) + '%' } }, g === base ? '0' : rel(g)))));

  // A thread's states, once, under the first lane it ran (or after all).
  const states = new Map(arr(tree.threadStates).map((st) => [st.tid, st]));
  const drawnStates = new Set();
  const stateRow = (tid) => {
    const st = states.get(tid);
    if (!st || drawnStates.has(tid)) return;
    drawnStates.add(tid);
    grid.append(h('div', { class: 'lab states', title: 'what ' + threadName(tid) + ' did' }, threadName(tid) + ' · state'),
      h('div', { class: 'track states', data: { tid: String(tid) } }, arr(st.parts).map((p) => stateBar(p, x, rel))));
  };

  // Lanes: regions of one Swift task nest, so rows by depth never overlap
  // within a lane; packing still splits a row where misuse made them.
  const lanes = new Map();
  for (const item of regions) {
    const r = item.r;
    const key = num(r.swiftTask) ? 'task:' + r.swiftTask : 'thread:' + r.thread;
    if (!lanes.has(key)) lanes.set(key, { key, r, first: num(r.begin) || 0, items: [], threadIds: new Set() });
    const lane = lanes.get(key);
    lane.items.push(item); lane.threadIds.add(r.thread);
    lane.first = Math.min(lane.first, num(r.begin) || lane.first);
  }
  for (const lane of [...lanes.values()].sort((a, b) => a.first - b.first)) {
    const rows = [];
    for (const { r, depth } of lane.items.sort((a, b) => a.depth - b.depth || a.r.begin - b.r.begin)) {
      const b = num(r.begin) === null ? t0 : r.begin, e = num(r.end) === null ? t1 : r.end;
      let slot = rows.findIndex((row) => row.depth === depth && row.end <= b);
      if (slot < 0) { rows.push({ depth, end: e, bars: [] }); slot = rows.length - 1; }
      rows[slot].end = e;
      rows[slot].bars.push(regionBar(r, b, e));
    }
    rows.sort((a, b) => a.depth - b.depth);
    const who = [...lane.threadIds].map(threadName).join(', ');
    const name = num(lane.r.swiftTask) ? 'Swift task ' + lane.r.swiftTask : who;
    const swift = num(lane.r.swiftTask) !== null && lane.r.swiftTask !== 0;
    const label = (i) => i === 0 ? (swift && rows.length === 1 ? name + ' · ' + who : name) : i === 1 && swift ? who : '';
    rows.forEach((rw, i) => row(label(i), i === 0, rw.bars, name + ' on ' + who));
    for (const tid of lane.threadIds) stateRow(tid);
  }
  if (!regions.length) row('regions', true, h('span', { class: 'faint', style: { fontSize: '11.5px', paddingLeft: '4px' } }, 'no regions'));
  for (const tid of states.keys()) stateRow(tid);

  function regionBar(r, b, e) {
    const open = num(r.end) === null;
    const bad = arr(r.misuse).length > 0;
    const bar = h('div', {
      class: 'bar region' + (open ? ' open' : '') + (bad ? ' misuse' : ''),
      style: { left: x(b) + '%', width: Math.max(0, x(e) - x(b)) + '%', background: colorOf(r.type) },
      title: r.type + ' ' + (open ? 'not ended' : dur(e - b)) + ' at ' + rel(b),
    }, String(r.type));
    bar.addEventListener('click', () => {
      for (const a of grid.querySelectorAll('.bar.active')) a.classList.remove('active');
      bar.classList.add('active');
      clear(info, h('b', null, String(r.type)), ' · ', open ? 'not ended' : dur(e - b), ' · from ', rel(b), ' to ', open ? 'the end of the trace' : rel(e),
        ' · ', threadName(r.thread), num(r.swiftTask) ? ' · Swift task ' + r.swiftTask : '',
        bad ? h('span', { style: { color: 'var(--warn)' } }, ' · misuse: ' + arr(r.misuse).join(', ')) : '',
        arr(r.stack).length ? h('pre', { class: 'frames' }, arr(r.stack).join('\n')) : '');
    });
    return bar;
  }

  if (logs.length) {
    row('logs', true, logs.map((l) => {
      const mark = h('div', {
        class: 'logmark' + (/warn|error|fail/i.test(String(l.category)) ? ' warn' : ''),
        style: { left: x(num(l.time) === null ? t0 : l.time) + '%' }, title: rel(l.time) + ' ' + l.category + ': ' + l.message,
      });
      mark.addEventListener('click', () => clear(info, h('b', null, String(l.category)), ' at ', rel(l.time), ' on ', threadName(l.thread), ': ',
        String(l.message), l.truncated ? h('span', { class: 'faint' }, ' (truncated)') : '',
        arr(l.stack).length ? h('pre', { class: 'frames' }, arr(l.stack).join('\n')) : ''));
      return mark;
    }));
  }
  if (children.length) {
    const rows = [];
    for (const c of children.slice().sort((a, b) => a.begin - b.begin)) {
      const b = num(c.begin) === null ? t0 : c.begin, e = num(c.end) === null ? t1 : c.end;
      let slot = rows.findIndex((rw) => rw.end <= b);
      if (slot < 0) { rows.push({ end: e, bars: [] }); slot = rows.length - 1; }
      rows[slot].end = e;
      const bar = h('div', {
        class: 'bar child' + (num(c.end) === null ? ' open' : ''), data: { child: c.process + ':' + c.id },
        style: { left: x(b) + '%', width: Math.max(0, x(e) - x(b)) + '%' },
        title: c.type + ' #' + c.id + ' ' + (num(c.end) === null ? 'not ended' : dur(c.latency)) + ' at ' + rel(b) + ': click for its timeline',
      }, c.type + ' #' + c.id);
      bar.addEventListener('click', () => showTask(c, trail.concat([tree])));
      rows[slot].bars.push(bar);
    }
    rows.forEach((rw, i) => row(i === 0 ? 'child tasks' : '', i === 0, rw.bars));
  }

  const crumbs = h('div', { class: 'crumbs' }, trail.map((t, i) => [
    h('button', { type: 'button', onclick: () => showTask(t, trail.slice(0, i)) }, t.type + ' #' + t.id), ' › ']),
  h('h3', null, tree.type + ' #' + tree.id));
  clear(pane, crumbs,
    h('p', { class: 'muted' }, processLabel(tree.process, tree.pid), ' · begins at ', offset(tree.begin), ' · ',
      end === null ? 'not ended' : h('b', { style: { color: 'var(--ink)' } }, dur(tree.latency)),
      num(tree.parent) ? ' · child of #' + tree.parent : '',
      arr(tree.threads).length ? ' · ' + plural(arr(tree.threads).length, 'thread') + ': ' + arr(tree.threads).map((t) => threadName(t.tid)).join(', ') : '',
      arr(tree.swiftTasks).length ? ' · ' + plural(arr(tree.swiftTasks).length, 'Swift task') : ''),
    arr(tree.stack).length ? h('details', { class: 'created' }, h('summary', null, 'created at'), h('pre', { class: 'frames' }, arr(tree.stack).join('\n'))) : null,
    num(tree.omittedRegions) || num(tree.omittedLogs) ? h('p', { class: 'muted' }, 'Beyond the limits of a task, not shown: ' +
      [num(tree.omittedRegions) ? plural(tree.omittedRegions, 'region') : null, num(tree.omittedLogs) ? plural(tree.omittedLogs, 'log') : null]
        .filter((x) => x).join(' and ') + '.') : null,
    grid, states.size ? activityLegend() : null, info, whereTimeWent(tree), taskActivity(tree), taskWaits(tree, rel, threadName),
    taskLogs(tree, rel, threadName));
}

function whereTimeWent(tree) {
  const self = arr(tree.selfTime).filter((s) => num(s.ns) !== null).slice().sort((a, b) => b.ns - a.ns);
  const uncovered = num(tree.uncovered);
  const latency = num(tree.latency);
  const parts = self.map((s) => ({ name: String(s.region), ns: s.ns, color: colorOf(s.region) }));
  if (uncovered !== null) parts.push({ name: 'no region', ns: uncovered, color: null });
  const sum = parts.reduce((a, p) => a + Math.max(0, p.ns), 0);
  const box = h('div', { id: 'time-went' }, h('h3', null, 'Where the time went'));
  if (!parts.length || !(sum > 0)) return add(box, h('p', { class: 'empty' }, 'No region time recorded for this task.'));
  const share = (ns) => latency ? sig(ns / latency * 100) + ' %' : '–';
  return add(box,
    h('p', { class: 'muted' }, 'Self time per region type (its duration less its child regions) and the time no region covers; regions of concurrent Swift tasks can add up to more than the latency.'),
    h('div', { class: 'stack' }, parts.map((p) => h('div', {
      class: p.color ? null : 'uncovered', title: p.name + ': ' + dur(p.ns),
      style: { width: (Math.max(0, p.ns) / sum * 100) + '%', background: p.color || null },
    }))),
    h('table', null, h('thead', null, h('tr', null, h('th', null, 'region'), h('th', { class: 'num' }, 'self time'), h('th', { class: 'num' }, 'of latency'))),
      h('tbody', null, parts.map((p) => h('tr', null,
        h('td', null, h('span', { class: 'swatch' + (p.color ? '' : ' uncovered'), style: { background: p.color || null } }), p.name),
        h('td', { class: 'num' }, dur(p.ns)), h('td', { class: 'num' }, share(p.ns)))))));
}

function taskLogs(tree, rel, threadName) {
  const logs = arr(tree.logs);
  if (!logs.length) return null;
  return h('div', null, h('h3', { style: { marginTop: '10px' } }, 'Logs'),
    h('table', null, h('tbody', null, logs.map((l) => h('tr', null,
      h('td', { class: 'num' }, rel(l.time)), h('td', null, String(l.category)), h('td', { class: 'muted' }, threadName(l.thread)),
      h('td', null, String(l.message), l.truncated ? h('span', { class: 'faint' }, ' (truncated)') : ''))))));
}
"""# + "\n"
}
