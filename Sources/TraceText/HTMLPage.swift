/// The report page around its data: the document head with its style
/// sheet, and the script that draws the report from the JSON in
/// `#report` (HTMLReport puts the data between the two). The script is
/// plain ES2020 in five parts, concatenated in one scope; it builds every
/// element with the DOM, never from HTML text, since type names and log
/// messages are the traced service's data.
///
/// The Content-Security-Policy lets the page load nothing at all (no
/// fetch, image, font or frame): inline style and script only.
enum HTMLPage {
    static let script = basicsScript + tasksScript + timelineScript + executionScript + sectionsScript

    static let head = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tracectl report --html">
<link rel="icon" href="data:,">
<title>traced report</title>
<style>
:root {
  --ink: #1d232b; --muted: #5f6b7a; --faint: #8a94a3; --line: #dde2e8; --panel: #ffffff; --page: #f4f6f9;
  --accent: #2f6fde; --accent-soft: #e4edfc; --warn: #b5432f; --bar: #5b8def; --bar-hot: #e0893a;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 17px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 0; }
p { margin: 4px 0; }
button { font: inherit; }
.muted { color: var(--muted); }
.faint { color: var(--faint); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.top { background: var(--panel); border-bottom: 1px solid var(--line); padding: 14px 24px 10px; display: flex; flex-wrap: wrap; gap: 12px 32px; align-items: flex-start; justify-content: space-between; }
.top .files { color: var(--muted); font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.chip { background: var(--page); border: 1px solid var(--line); border-radius: 12px; padding: 1px 10px; font-size: 12.5px; white-space: nowrap; }
.chip.bad { border-color: #efc3b9; background: #fdf0ec; color: var(--warn); }
#perfetto-box { max-width: 520px; font-size: 13px; }
#perfetto-box .actions { display: flex; gap: 8px; flex-wrap: wrap; }
.btn { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; padding: 5px 12px; cursor: pointer; }
.btn.ghost { background: var(--panel); color: var(--accent); }
.btn:disabled { opacity: .45; cursor: default; }
.btn.small { padding: 1px 8px; font-size: 12.5px; }
nav.sections { position: sticky; top: 0; z-index: 5; background: rgba(244, 246, 249, .95); border-bottom: 1px solid var(--line); padding: 6px 24px; display: flex; gap: 18px; }
nav.sections a { color: var(--accent); text-decoration: none; font-weight: 500; }
main { padding: 12px 24px 40px; }
section.block { margin: 14px 0 26px; }
.explain { color: var(--muted); margin-bottom: 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 8px; min-width: 0; }
.card .stats { color: var(--muted); font-size: 12.5px; margin: 2px 0 6px; }
.card .stats b { color: var(--ink); font-weight: 600; }
.hist { position: relative; height: 150px; margin: 4px 4px 0 34px; }
.hist.compact { height: 28px; margin: 0; width: 140px; }
.hist .plot { position: absolute; left: 0; right: 0; top: 30px; bottom: 20px; border-bottom: 1px solid #b9c1cc; }
.hist.compact .plot { top: 0; bottom: 0; border-bottom-color: var(--line); }
.bucket { position: absolute; bottom: 0; top: 0; padding: 0 1px; margin: 0; border: 0; background: transparent; cursor: pointer; display: flex; align-items: flex-end; }
.bucket:hover { background: rgba(47, 111, 222, .07); }
.bucket .fill { width: 100%; background: var(--bar); border-radius: 2px 2px 0 0; min-height: 2px; }
.bucket.selected { background: var(--accent-soft); }
.bucket.selected .fill { background: var(--bar-hot); }
.hist.compact .bucket { cursor: default; pointer-events: none; }
.pmark { position: absolute; top: -30px; bottom: 0; border-left: 1px dashed #7b8594; pointer-events: none; }
.pmark.flip span { left: auto; right: 3px; }
.pmark span { position: absolute; z-index: 1; left: 3px; font-size: 11px; color: var(--muted); white-space: nowrap; background: rgba(255, 255, 255, .85); }
.xtick { position: absolute; bottom: -18px; font-size: 11px; color: var(--muted); transform: translateX(-50%); white-space: nowrap; }
.xtick.end { transform: translateX(-100%); }
.xtick.end::before { left: 100%; }
.xtick::before { content: ""; position: absolute; left: 50%; top: -4px; height: 4px; border-left: 1px solid #b9c1cc; }
.ylabel { position: absolute; left: -34px; width: 30px; text-align: right; font-size: 11px; color: var(--muted); }
details.slowest { margin-top: 22px; font-size: 12.5px; }
details.slowest summary { cursor: pointer; color: var(--accent); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12.5px; background: #fafbfc; position: relative; }
th.sortable { cursor: pointer; user-select: none; }
th.sorted::after { content: " ▾"; }
th.sorted.asc::after { content: " ▴"; }
.tablebox { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: auto; }
tr.pick { cursor: pointer; }
#bucket-tasks td, #bucket-tasks th { white-space: nowrap; font-size: 13px; }
tr.pick:hover td { background: #f3f7fe; }
tr.pick.selected td { background: var(--accent-soft); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
#task-detail { display: grid; grid-template-columns: minmax(420px, 2fr) 5fr; align-items: start; gap: 12px; margin-top: 12px; }
#task-detail[hidden] { display: none; }
@media (max-width: 1100px) { #task-detail { grid-template-columns: 1fr; } }
.pane { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
.pager { display: flex; gap: 8px; align-items: center; justify-content: flex-end; margin-top: 6px; font-size: 12.5px; }
.crumbs { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 2px; }
.crumbs button { border: 0; background: none; color: var(--accent); cursor: pointer; padding: 0; }
.tl { display: grid; grid-template-columns: 150px 1fr; margin: 8px 0 4px; }
.tl .lab { font-size: 11.5px; color: var(--muted); padding-right: 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; line-height: 20px; border-top: 1px solid transparent; }
.tl .lab.first { border-top-color: var(--line); color: var(--ink); }
.tl .track { position: relative; height: 20px; border-top: 1px solid transparent; }
.tl .track.first { border-top-color: var(--line); }
.tl .track.axis { height: 22px; }
.tl .track.axis .xtick { bottom: 2px; }
.tl .track.axis .xtick::before { top: 16px; height: 6px; }
.tl .grid { position: absolute; top: 0; bottom: 0; border-left: 1px solid #eef1f4; }
.bar { position: absolute; top: 2px; height: 16px; border-radius: 3px; font-size: 11px; line-height: 16px; color: #10161d; padding: 0 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 2px; cursor: pointer; border: 1px solid rgba(0, 0, 0, .12); }
.bar.open { background-image: repeating-linear-gradient(45deg, rgba(255,255,255,.45) 0 4px, transparent 4px 8px); }
.bar.misuse { outline: 2px solid var(--warn); outline-offset: -1px; }
.bar.child { background: #e9edf3; border-color: #aab4c2; color: var(--accent); }
.bar.active { box-shadow: 0 0 0 2px var(--ink); }
.logmark { position: absolute; top: 5px; width: 10px; height: 10px; margin-left: -5px; transform: rotate(45deg); background: #f1b43a; border: 1px solid #9b6c07; cursor: pointer; }
.logmark.warn { background: #e86b55; border-color: #8c2a1a; }
.info { min-height: 22px; font-size: 12.5px; background: #fafbfc; border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; margin: 6px 0 10px; }
.info pre { margin: 4px 0 0; white-space: pre-wrap; }
.stack { display: flex; height: 16px; border-radius: 4px; overflow: hidden; border: 1px solid var(--line); margin: 6px 0; }
.stack div { height: 100%; min-width: 1px; }
.uncovered { background: repeating-linear-gradient(45deg, #cfd5dd 0 4px, #e6e9ee 4px 8px); }
.tl .lab.states { font-size: 10.5px; line-height: 12px; color: var(--faint); }
.tl .track.states { height: 12px; }
.spart { position: absolute; top: 2px; height: 8px; min-width: 1px; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 12px; color: var(--muted); margin: 2px 0 8px; }
#activity-table td.split { width: 280px; }
#activity-table .stack { margin: 2px 0; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
@media (max-width: 1100px) { .two { grid-template-columns: 1fr; } }
.chart { position: relative; height: 150px; margin: 6px 0 18px 46px; border-left: 1px solid #b9c1cc; border-bottom: 1px solid #b9c1cc; }
.chart svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.chart .ylabel { left: -46px; width: 42px; }
.chart .cursor { position: absolute; top: 0; bottom: 0; border-left: 1px solid var(--ink); pointer-events: none; }
.readout { font-size: 12px; color: var(--muted); min-height: 18px; }
.controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 6px 0 8px; }
.controls input[type=search] { flex: 1 1 260px; max-width: 420px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
.controls select { padding: 4px 6px; border: 1px solid var(--line); border-radius: 6px; font: inherit; background: var(--panel); }
mark { background: #ffe38a; padding: 0; }
.empty { color: var(--muted); font-style: italic; padding: 6px 0; }
.spark { display: flex; align-items: flex-end; gap: 1px; height: 20px; width: 120px; }
.spark div { flex: 1; background: var(--bar); min-height: 1px; }
pre.frames { margin: 2px 0; white-space: pre-wrap; color: var(--muted); }
.scroll { max-height: 560px; overflow: auto; }
.scroll thead th { position: sticky; top: 0; z-index: 1; }
.cats { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.cats button { border: 1px solid var(--line); background: var(--panel); border-radius: 12px; padding: 1px 10px; cursor: pointer; font-size: 12.5px; }
.cats button.on { background: var(--accent-soft); border-color: var(--accent); }
details.created { font-size: 12.5px; margin: 2px 0; }
details.created summary { cursor: pointer; color: var(--accent); }
</style>
</head>
<body>
<main id="app"><noscript>This report is drawn by JavaScript: allow scripts for this page to read it.</noscript></main>
"""# + "\n"
}
