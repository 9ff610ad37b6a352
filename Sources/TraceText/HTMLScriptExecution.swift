extension HTMLPage {
    /// The page script's parts about what the kernel events tell, drawn
    /// only for a report that has them (`execution` in its JSON; a task tree
    /// with `activity`, `waits`, `threadStates`): the "Where the time went"
    /// section, and a task's thread states, split and waits.
    static let executionScript = #"""
// What the kernel events tell: per type, the split of its wall time by what
// its thread did; the scheduler latency; the stacks where threads waited
// longest; for a task, its threads' states, its split and its waits. A
// report without kernel events has none of these members, and the page
// draws none of it.
const ACTIVITIES = [['running', '#4fae74'], ['runnable', '#e6c34a'], ['lock', '#e0653a'], ['io', '#8e6cd8'],
  ['sleep', '#5fa3d9'], ['syscall', '#d17fb0'], ['suspended', '#a9b4c2'], ['unknown', null]];
const ACTIVITY_COLORS = new Map(ACTIVITIES);

function activitySwatch(name) {
  const color = ACTIVITY_COLORS.get(name);
  return h('span', { class: 'swatch' + (color ? '' : ' uncovered'), style: { background: color || null } });
}
function activityLegend() {
  return h('div', { class: 'legend' }, ACTIVITIES.map(([name]) => h('span', null, activitySwatch(name), name)),
    h('span', { class: 'faint' }, 'lock, io, sleep, syscall: blocked'));
}
// A stacked bar of a split (nanoseconds by activity), its shares of `of`.
function activityBar(split, of) {
  const parts = ACTIVITIES.map(([name, color]) => ({ name, color, ns: Math.max(0, num((split || {})[name]) || 0) })).filter((p) => p.ns > 0);
  const sum = parts.reduce((n, p) => n + p.ns, 0);
  return h('div', { class: 'stack activity' }, parts.map((p) => h('div', {
    class: 'act' + (p.color ? '' : ' uncovered'), data: { activity: p.name },
    title: p.name + ': ' + dur(p.ns) + (of ? ' (' + sig(p.ns / of * 100) + ' %)' : ''),
    style: { width: (p.ns / sum * 100) + '%', background: p.color },
  })));
}

function executionSection() {
  const ex = R.execution;
  if (!ex || typeof ex !== 'object') return null;
  const section = h('section', { class: 'block', id: 'execution' }, h('h2', null, 'Where the time went'),
    h('p', { class: 'explain' }, 'Each type’s wall time by what its thread did, from the kernel’s events: on a CPU (running), wanting one (runnable), ' +
      'waiting for a lock, for I/O, in a sleep or in another system call; on no thread, a Swift task suspended at an await (suspended); ' +
      'unknown where the trace does not tell. Shares are of the type’s total.'),
    activityLegend());
  const rows = [];
  for (const [kind, list] of [['task', R.tasks], ['region', R.regions]]) {
    for (const r of arr(list)) {
      const total = num((r.latency || {}).total);
      if (!r.activity || typeof r.activity !== 'object' || !(total > 0)) continue;
      rows.push(h('tr', { data: { type: String(r.type), kind } },
        h('td', null, String(r.type)), h('td', { class: 'muted' }, kind), h('td', { class: 'split' }, activityBar(r.activity, total)),
        ACTIVITIES.map(([name]) => {
          const ns = num(r.activity[name]) || 0;
          return h('td', { class: 'num', title: dur(ns), data: { activity: name } }, ns ? sig(ns / total * 100) + ' %' : '–');
        })));
    }
  }
  add(section, rows.length ? h('div', { class: 'tablebox' }, h('table', { id: 'activity-table' },
    h('thead', null, h('tr', null, h('th', null, 'type'), h('th', null, 'of'), h('th', null, 'split'),
      ACTIVITIES.map(([name]) => h('th', { class: 'num' }, name)))),
    h('tbody', null, rows)))
    : h('p', { class: 'empty' }, 'No ended task or region to split.'));
  const wait = ex.schedulerLatency || {}, l = wait.latency || {};
  add(section, h('p', { id: 'scheduler-latency', class: 'muted', style: { marginTop: '10px' } },
    'Scheduler latency (from a wakeup to the switch-in that ends it): ', plural(num(wait.count) || 0, 'wakeup'),
    num(wait.count) ? ' · p50 ' + dur(l.p50) + ' · p90 ' + dur(l.p90) + ' · p99 ' + dur(l.p99) + ' · max ' + dur(l.max) : ''));
  const blocking = arr(ex.blocking);
  const several = arr(TRACE.processes).length > 1;
  return add(section, h('h3', { style: { marginTop: '14px' } }, 'Blocking stacks'),
    h('p', { class: 'explain' }, 'Where threads waited longest: from leaving the CPU to wait to the wakeup, summed per stack, wait and call.'),
    blocking.length ? h('div', { class: 'tablebox' }, h('table', { id: 'blocking-table' },
      h('thead', null, h('tr', null, h('th', null, 'wait'), h('th', null, 'why'), h('th', { class: 'num' }, 'total'),
        h('th', { class: 'num' }, 'waits'), several ? h('th', null, 'process') : null, h('th', null, 'stack'))),
      h('tbody', null, blocking.map((b) => h('tr', null,
        h('td', null, activitySwatch(b.wait), String(b.wait)), h('td', { class: 'mono' }, b.why ? String(b.why) : '–'),
        h('td', { class: 'num' }, dur(b.total)), h('td', { class: 'num' }, count(b.count)),
        several ? h('td', null, processLabel(b.process)) : null,
        h('td', null, arr(b.stack).length ? h('pre', { class: 'frames' }, innermost(arr(b.stack), 8).join('\n'))
          : h('span', { class: 'faint' }, 'no user stack recorded')))))))
      : h('p', { class: 'empty' }, 'No wait of a known kind (lock, io, sleep, syscall) ended in the trace.'));
}

// A stack's first `n` lines, and the line that says it was cut (the
// last, after the frames: StackResolver.lines) if it was.
function innermost(stack, n) {
  const last = stack[stack.length - 1];
  const cut = typeof last === 'string' && last.startsWith('… (cut');
  return stack.length > n && cut ? stack.slice(0, n).concat([last]) : stack.slice(0, n);
}

// One part of a thread's states on a timeline (x: time to percent).
function stateBar(part, x, rel) {
  const b = num(part.begin), e = num(part.end);
  if (b === null || e === null) return null;
  const color = ACTIVITY_COLORS.get(part.activity);
  return h('div', {
    class: 'spart' + (color ? '' : ' uncovered'), data: { activity: String(part.activity) },
    style: { left: x(b) + '%', width: Math.max(0, x(e) - x(b)) + '%', background: color || null },
    title: part.activity + ' ' + dur(e - b) + ' at ' + rel(b),
  });
}

function taskActivity(tree) {
  if (!tree.activity || typeof tree.activity !== 'object') return null;
  const latency = num(tree.latency);
  const parts = ACTIVITIES.filter(([name]) => (num(tree.activity[name]) || 0) > 0);
  return h('div', { id: 'task-activity' }, h('h3', { style: { marginTop: '10px' } }, 'What its thread did'),
    h('p', { class: 'muted' }, 'From its creation to its end, what the thread it was created on did (kernel events).'),
    activityBar(tree.activity, latency),
    h('table', null, h('tbody', null, parts.map(([name]) => h('tr', { data: { activity: name } },
      h('td', null, activitySwatch(name), name), h('td', { class: 'num' }, dur(tree.activity[name])),
      h('td', { class: 'num' }, latency ? sig(tree.activity[name] / latency * 100) + ' %' : '–'))))));
}

function wokenBy(waker, process) {
  if (!waker || typeof waker !== 'object') return 'its wakeup is not in the trace';
  if (!num(waker.process)) return 'an interrupt or another process';
  const who = num(waker.tid) ? 'thread ' + waker.tid + (waker.name ? ' (' + waker.name + ')' : '') : 'a thread not known';
  return who + (waker.process !== process ? ' of ' + processLabel(waker.process, waker.pid) : '');
}

function taskWaits(tree, rel, threadName) {
  if (!Array.isArray(tree.waits)) return null;
  const box = h('div', { id: 'task-waits' }, h('h3', { style: { marginTop: '10px' } }, 'Waits'));
  if (!tree.waits.length) return add(box, h('p', { class: 'empty' }, 'No wait began in it.'));
  return add(box, h('p', { class: 'muted' }, 'Its threads’ waits off the CPU, from leaving it to the wakeup: where it blocked and who woke it.'),
    h('table', null,
      h('thead', null, h('tr', null, ['at', 'wait', 'why', 'for', 'in', 'thread', 'woken by', 'stack'].map((c) => h('th', null, c)))),
      h('tbody', null, tree.waits.map((w) => h('tr', null,
        h('td', { class: 'num' }, rel(w.begin)), h('td', null, activitySwatch(w.wait), String(w.wait)),
        h('td', { class: 'mono' }, w.why ? String(w.why) : '–'), h('td', { class: 'num' }, dur(w.end - w.begin)),
        h('td', null, w.region ? String(w.region) : ''), h('td', { class: 'muted' }, threadName(w.thread)),
        h('td', null, wokenBy(w.waker, tree.process)),
        h('td', null, arr(w.stack).length ? h('details', { class: 'created' }, h('summary', null, arr(w.stack)[0]),
          h('pre', { class: 'frames' }, arr(w.stack).join('\n'))) : h('span', { class: 'faint' }, 'none')))))),
    num(tree.omittedWaits) ? h('p', { class: 'muted' }, plural(tree.omittedWaits, 'more wait') + ' not shown.') : null);
}
"""# + "\n"
}
