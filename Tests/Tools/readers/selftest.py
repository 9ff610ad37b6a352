"""Checks the checkers: check-trace on traces with known contents, check-page
on pages that must pass or fail. Prints one line per check and ends with
'N passed, N failed'; exits 1 if any failed. Run by Tests/Tools/selftest-readers.
"""

import json
import os
import subprocess
import sys
import tempfile

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READERS = os.path.join(TOOLS, 'readers')
sys.path.insert(0, READERS)
import make_sample_traces  # noqa: E402

results = []


def check(name, condition, detail=''):
  results.append(bool(condition))
  print(f"{'ok  ' if condition else 'FAIL'} {name}" +
        ('' if condition else f'\n     {detail}'))
  return condition


def run(tool, *args):
  p = subprocess.run([os.path.join(TOOLS, tool), *args],
                     capture_output=True,
                     text=True)
  try:
    out = json.loads(p.stdout) if p.stdout.strip() else None
  except json.JSONDecodeError:
    out = None
  return p.returncode, out, p.stderr


def by(rows, key):
  return {r[key]: r for r in rows}


def check_good_trace(path, counter_name):
  name = os.path.basename(path)
  status, out, err = run(
      'check-trace', path, '--query',
      "SELECT a.key, a.display_value FROM slice s JOIN args a USING (arg_set_id)"
      " WHERE s.name = 'orderID' AND a.key LIKE '%orderID'")
  if not check(f'{name} loads', status == 0 and out, err):
    return
  s = out['slices']
  categories = by(s['by_category'], 'category')
  check(f'{name}: 4 slices = 1 task + 2 regions + 1 log, none unfinished',
        (s['total'], s['unfinished'], s['zero_duration']) == (4, 0, 1) and
        {k: v['count'] for k, v in categories.items()} == {
            'task': 1, 'region': 2, 'log': 1
        } and categories['log']['zero_duration'] == 1, s)
  check(f'{name}: one flow', out['flows'] == 1, out['flows'])
  counters = [(c['name'], c['count'], c['sum'], c['min'], c['max'])
              for c in out['counters']]
  check(f'{name}: counter {counter_name!r} = 1, 2, 3',
        counters == [(counter_name, 3, 6.0, 1.0, 3.0)], counters)
  threads = {(t['tid'], t['name'], t['pid']) for t in out['threads']}
  check(f'{name}: thread 101 "worker" in process 100',
        (101, 'worker', 100) in threads, threads)
  check(f'{name}: process 100 "cafe"',
        [(p['pid'], p['name']) for p in out['processes']] == [(100, 'cafe')],
        out['processes'])
  check(f'{name}: no error stats', out['stats'] == [], out['stats'])
  rows = out['queries'][0]['rows']
  check(f'{name}: the log carries orderID = 42',
        [r['display_value'] for r in rows] == ['42'], rows)


def main():
  with tempfile.TemporaryDirectory() as tmp:
    make_sample_traces.write(tmp)
    good_proto = os.path.join(tmp, 'good.pftrace')
    check_good_trace(good_proto, 'cups')
    check_good_trace(os.path.join(tmp, 'good.json'), 'cups value')

    status, out, err = run('check-trace', os.path.join(tmp, 'broken.pftrace'))
    check(
        'broken.pftrace: the stray END makes no slice, the BEGIN without END'
        ' one unfinished slice', status == 0 and out and
        (out['slices']['total'], out['slices']['unfinished']) == (1, 1),
        out and out['slices'])

    status, out, err = run('check-trace', os.path.join(tmp, 'broken.json'))
    names = [r['name'] for r in (out or {}).get('stats', [])]
    check('broken.json: overlapping complete events show in stats',
          status == 0 and names == ['slice_drop_overlapping_complete_event'],
          out and out['stats'])

    truncated = os.path.join(tmp, 'truncated.pftrace')
    with open(good_proto, 'rb') as f, open(truncated, 'wb') as g:
      g.write(f.read()[:-20])
    status, out, err = run('check-trace', truncated)
    names = [r['name'] for r in (out or {}).get('stats', [])]
    check('a truncated protobuf trace shows in stats',
          status == 0 and names == ['check_trace_incomplete_last_packet'],
          out and out['stats'])

    for name, data in (('not-a-trace.txt', b'hello, not a trace\n'),
                       ('empty.trace', b'')):
      path = os.path.join(tmp, name)
      with open(path, 'wb') as f:
        f.write(data)
      status, out, err = run('check-trace', path)
      check(f'{name} fails to load (exit 1, a message)',
            status == 1 and out is None and 'check-trace:' in err,
            (status, err))

    pages = os.path.join(READERS, 'pages')
    shot = os.path.join(tmp, 'clean.png')
    status, out, err = run('check-page', os.path.join(pages, 'clean.html'),
                           '--eval',
                           "document.querySelectorAll('.bucket')[2].click()",
                           '--eval',
                           "document.getElementById('detail').textContent",
                           '--screenshot', shot, '--size', '800x400')
    check(
        'clean.html passes, a click changes it, the screenshot is written',
        status == 0 and out['ready'] and out['errors'] == [] and
        out['evals'][1]['value'] == 'bucket 2: 12 tasks' and
        os.path.getsize(shot) > 1000, (status, err))
    for page, kind in (('console-error', 'console.error'),
                       ('exception', 'exception'), ('network', 'network'),
                       ('never-ready', 'not-ready')):
      status, out, err = run('check-page',
                             os.path.join(pages, page + '.html'),
                             '--ready-timeout', '2')
      kinds = [e['kind'] for e in (out or {}).get('errors', [])]
      check(f'{page}.html fails with {kind}', status == 1 and kind in kinds,
            (status, kinds, err))

  passed = sum(results)
  print(f'{passed} passed, {len(results) - passed} failed')
  return 0 if passed == len(results) else 1


if __name__ == '__main__':
  sys.exit(main())
