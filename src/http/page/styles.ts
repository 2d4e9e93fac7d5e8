/** The status page's stylesheet: light and dark via `prefers-color-scheme`, no external fonts. @internal */
export const STYLES = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #151a21; --muted: #5b6573; --line: #e3e6eb; --hover: #f1f3f6;
  --accent: #2152c9; --accent-text: #ffffff; --focus: #2152c9;
  --healthy-bg: #dcf5e4; --healthy-fg: #0d5028; --healthy-line: #1f9d55;
  --degraded-bg: #fdf0c8; --degraded-fg: #6b3f00; --degraded-line: #d49100;
  --unhealthy-bg: #fde1e1; --unhealthy-fg: #86141a; --unhealthy-line: #d4333b;
  --stale-bg: #ece7fb; --stale-fg: #46238f; --stale-line: #7c5ad6;
  --unknown-bg: #e9ecf0; --unknown-fg: #39424e; --unknown-line: #8a94a3;
  --spark: #2152c9; --spark-fail: #d4333b;
  /* Every table row is this tall: the script reads it to place rows it does not render. */
  --row-h: 57px;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --panel: #161b22; --text: #e6e9ee; --muted: #9aa4b2; --line: #272e38; --hover: #1c222b;
    --accent: #4c82f7; --accent-text: #06101f; --focus: #7aa5ff;
    --healthy-bg: #0f3320; --healthy-fg: #8ee4ad; --healthy-line: #2fb46a;
    --degraded-bg: #3a2a06; --degraded-fg: #f7cf6b; --degraded-line: #e0a320;
    --unhealthy-bg: #43151a; --unhealthy-fg: #ffaaae; --unhealthy-line: #f0565e;
    --stale-bg: #2a1d4f; --stale-fg: #cdbcff; --stale-line: #9a7cf0;
    --unknown-bg: #262c35; --unknown-fg: #c6ccd5; --unknown-line: #6b7685;
    --spark: #7aa5ff; --spark-fail: #ff7b82;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-size: 14px; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 1rem/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.topbar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px;
  padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line);
  position: sticky; top: 0; z-index: 1;
}
.brand { display: flex; align-items: center; gap: 10px; min-width: 0; }
.brand h1 { font-size: 1.15rem; font-weight: 650; margin: 0; letter-spacing: -0.01em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.logo { width: 22px; height: 22px; border-radius: 6px; background: var(--accent); display: grid; place-items: center; flex: none; }
.logo svg { width: 14px; height: 14px; stroke: var(--accent-text); fill: none; stroke-width: 2.4; stroke-linecap: round; stroke-linejoin: round; }
.overall { font-weight: 600; padding: 3px 10px; border-radius: 999px; font-size: 0.9rem; white-space: nowrap; }
.counts { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; }
.counts li { font-size: 0.85rem; color: var(--muted); padding: 2px 8px; border: 1px solid var(--line); border-radius: 999px; white-space: nowrap; }
.counts li b { color: var(--text); font-weight: 650; margin-right: 3px; font-variant-numeric: tabular-nums; }
.counts li .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; vertical-align: 1px; }
.spacer { flex: 1; }
.actions { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.conn { font-size: 0.85rem; color: var(--muted); display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.conn::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--unknown-line); }
.conn[data-state="live"]::before { background: var(--healthy-line); box-shadow: 0 0 0 3px var(--healthy-bg); }
.conn[data-state="reconnecting"]::before { background: var(--degraded-line); }
button {
  font: inherit; font-weight: 600; font-size: 0.9rem; cursor: pointer; border-radius: 6px;
  padding: 6px 14px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
}
button:hover { filter: brightness(1.08); }
button:disabled { opacity: 0.6; cursor: progress; }
button.ghost { background: transparent; color: var(--text); border-color: var(--line); padding: 3px 10px; font-weight: 500; font-size: 0.85rem; }
button.ghost:hover { background: var(--hover); filter: none; }
.token { display: flex; align-items: center; gap: 6px; font-size: 0.85rem; }
.token input { font: inherit; padding: 5px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--text); width: 14em; }
main { padding: 12px 24px 32px; max-width: 1480px; margin: 0 auto; }
.feedback { min-height: 1.45em; margin: 0 0 8px; font-size: 0.9rem; color: var(--muted); }
.feedback[data-kind="error"] { color: var(--unhealthy-fg); }
.feedback[data-kind="ok"] { color: var(--healthy-fg); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.sizer { position: relative; }
table { width: 100%; table-layout: fixed; border-collapse: separate; border-spacing: 0; }
th {
  text-align: left; font-size: 0.75rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--muted); padding: 9px 12px; border-bottom: 1px solid var(--line); white-space: nowrap;
}
.c-state { width: 124px; } .c-latency { width: 88px; } .c-spark { width: 158px; } .c-uptime { width: 112px; }
.c-when { width: 136px; } .c-action { width: 90px; }
tbody { will-change: transform; }
tbody tr { height: var(--row-h); }
td {
  padding: 0 12px; border-bottom: 1px solid var(--line); vertical-align: middle;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
tbody tr:hover { background: var(--hover); }
tbody tr td:first-child { box-shadow: inset 3px 0 0 var(--row-line, transparent); }
tr[data-state="healthy"] { --row-line: var(--healthy-line); }
tr[data-state="degraded"] { --row-line: var(--degraded-line); }
tr[data-state="unhealthy"] { --row-line: var(--unhealthy-line); }
tr[data-state="stale"] { --row-line: var(--stale-line); }
tr[data-state="unknown"] { --row-line: var(--unknown-line); }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin: 0 0 10px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip {
  display: inline-flex; align-items: center; gap: 6px; font-weight: 500; font-size: 0.85rem; padding: 3px 10px;
  border-radius: 999px; background: var(--panel); color: var(--text); border: 1px solid var(--line);
}
.chip:hover { background: var(--hover); filter: none; }
.chip b { font-weight: 650; font-variant-numeric: tabular-nums; }
.chip .dot { width: 8px; height: 8px; border-radius: 50%; }
.chip[data-state="healthy"] { --chip-bg: var(--healthy-bg); --chip-fg: var(--healthy-fg); --chip-line: var(--healthy-line); }
.chip[data-state="degraded"] { --chip-bg: var(--degraded-bg); --chip-fg: var(--degraded-fg); --chip-line: var(--degraded-line); }
.chip[data-state="unhealthy"] { --chip-bg: var(--unhealthy-bg); --chip-fg: var(--unhealthy-fg); --chip-line: var(--unhealthy-line); }
.chip[data-state="stale"] { --chip-bg: var(--stale-bg); --chip-fg: var(--stale-fg); --chip-line: var(--stale-line); }
.chip[data-state="unknown"] { --chip-bg: var(--unknown-bg); --chip-fg: var(--unknown-fg); --chip-line: var(--unknown-line); }
.chip[aria-pressed="true"] { background: var(--chip-bg); color: var(--chip-fg); border-color: var(--chip-line); box-shadow: inset 0 0 0 1px var(--chip-line); }
.search input {
  font: inherit; font-size: 0.9rem; padding: 5px 10px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--text); width: 16em;
}
.shown { font-size: 0.85rem; color: var(--muted); font-variant-numeric: tabular-nums; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.name { font-weight: 600; }
.message { color: var(--muted); }
.when { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge {
  display: inline-flex; align-items: center; gap: 5px; font-size: 0.8rem; font-weight: 650;
  padding: 2px 9px 2px 7px; border-radius: 999px; white-space: nowrap; border: 1px solid transparent;
}
.badge .glyph { font-size: 0.75rem; line-height: 1; width: 1em; text-align: center; }
.s-healthy { background: var(--healthy-bg); color: var(--healthy-fg); border-color: var(--healthy-line); }
.s-degraded { background: var(--degraded-bg); color: var(--degraded-fg); border-color: var(--degraded-line); }
.s-unhealthy { background: var(--unhealthy-bg); color: var(--unhealthy-fg); border-color: var(--unhealthy-line); }
.s-stale { background: var(--stale-bg); color: var(--stale-fg); border-color: var(--stale-line); }
.s-unknown { background: var(--unknown-bg); color: var(--unknown-fg); border-color: var(--unknown-line); }
.d-healthy { background: var(--healthy-line); } .d-degraded { background: var(--degraded-line); }
.d-unhealthy { background: var(--unhealthy-line); } .d-stale { background: var(--stale-line); } .d-unknown { background: var(--unknown-line); }
.spark { display: block; width: 132px; height: 28px; overflow: visible; }
.spark polyline { fill: none; stroke: var(--spark); stroke-width: 1.5; stroke-linejoin: round; stroke-linecap: round; }
.spark .area { fill: var(--spark); opacity: 0.12; stroke: none; }
.spark circle { fill: var(--spark-fail); }
.spark-empty { color: var(--muted); font-size: 0.85rem; }
.sub { display: block; font-size: 0.78rem; color: var(--muted); font-weight: 400; }
.empty { padding: 40px; text-align: center; color: var(--muted); }
footer { color: var(--muted); font-size: 0.8rem; padding: 0 24px 24px; max-width: 1480px; margin: 0 auto; }
footer a { color: inherit; }
.selector { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 6px; font-size: 0.85rem; }
.selector input, .grouping select {
  font: inherit; font-size: 0.9rem; padding: 5px 10px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--text);
}
.selector input { width: 16em; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.selector input[aria-invalid="true"] { border-color: var(--unhealthy-line); box-shadow: inset 0 0 0 1px var(--unhealthy-line); }
.field-error { color: var(--unhealthy-fg); font-size: 0.85rem; }
.grouping { display: inline-flex; align-items: center; gap: 6px; font-size: 0.85rem; }
tr.group { background: var(--hover); }
tr.group td { padding: 0 12px; }
tr.group td > * { vertical-align: middle; }
.group-toggle {
  background: transparent; color: var(--text); border: 0; padding: 4px 6px; margin-right: 12px;
  display: inline-flex; align-items: baseline; gap: 8px; font-size: 0.95rem;
}
.group-toggle:hover { filter: none; text-decoration: underline; }
.group-toggle .caret::before { content: "\\25BE"; display: inline-block; width: 1em; }
tr.group.collapsed .caret::before { content: "\\25B8"; }
.group-size { color: var(--muted); font-weight: 500; font-size: 0.85rem; }
.group-counts { display: inline-flex; flex-wrap: wrap; gap: 4px 12px; margin: 0; padding: 0; list-style: none; font-size: 0.85rem; color: var(--muted); }
.group-counts b { color: var(--text); font-variant-numeric: tabular-nums; }
.group-counts .zero b { color: var(--muted); font-weight: 500; }
.group-counts .gc-unhealthy:not(.zero) b, .group-counts .gc-stale b { color: var(--unhealthy-fg); }
.group-counts .gc-degraded:not(.zero) b { color: var(--degraded-fg); }
.pname { display: block; overflow: hidden; text-overflow: ellipsis; }
tr[data-depth] td.name { padding-left: 30px; }
tr[data-depth="2"] td.name { padding-left: 48px; }
tr[data-depth="3"] td.name { padding-left: 66px; }
tr[data-depth="4"] td.name { padding-left: 84px; }
tr[data-depth] .pname::before { content: "\\21B3\\00a0"; color: var(--muted); font-weight: 400; }
.blocked-note { color: var(--unhealthy-fg); }
tr.silenced { background: var(--bg); }
tr.silenced td { color: var(--muted); }
tr.silenced .pname { color: var(--muted); font-weight: 500; }
tr.silenced .badge { border-style: dashed; }
.quiet-note { color: var(--stale-fg); }
.alerts {
  background: var(--unhealthy-bg); color: var(--unhealthy-fg); border: 1px solid var(--unhealthy-line);
  border-radius: 10px; padding: 8px 14px; margin: 0 0 10px;
}
.strip-title { font-size: 0.9rem; font-weight: 650; margin: 0 0 4px; display: inline; }
.alerts .strip-title { display: block; }
.alert-list, .silence-list { list-style: none; margin: 0; padding: 0; }
.alert { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 0.88rem; padding: 2px 0; }
.alert-providers { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; flex: 1 1 20em; }
.silences { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 8px 14px; margin: 0 0 10px; }
.silences summary { cursor: pointer; }
.silence-count { color: var(--muted); font-size: 0.85rem; }
.silence-list { max-height: 16em; overflow: auto; margin-top: 6px; }
.silence { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 14px; font-size: 0.88rem; padding: 5px 0; border-top: 1px solid var(--line); }
.silence-what { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.82rem; }
.silence-comment { flex: 1 1 12em; }
.silence-meta { color: var(--muted); font-size: 0.82rem; }
.silence button[data-armed="true"] { border-color: var(--unhealthy-line); color: var(--unhealthy-fg); }
@media (max-width: 860px) {
  :root { --row-h: 124px; }
  .topbar { padding: 12px 14px; position: static; }
  main { padding: 10px 14px 24px; }
  .search input { width: 100%; }
  .search { flex: 1 1 12em; }
  thead { display: none; }
  table, tbody { display: block; }
  tbody tr {
    display: flex; flex-wrap: wrap; align-items: center; align-content: center; gap: 6px 12px; padding: 0 14px;
    overflow: hidden; border-bottom: 1px solid var(--line); box-shadow: inset 3px 0 0 var(--row-line, transparent);
  }
  tbody tr td:first-child { box-shadow: none; }
  td { display: block; padding: 0; border: 0; height: auto; }
  td.state-cell { order: 1; }
  td.name { order: 2; flex: 1; min-width: 0; }
  td.action { order: 3; }
  td.message { order: 4; flex-basis: 100%; }
  td.spark-cell { order: 5; }
  td.latency { order: 6; }
  td.uptime { order: 7; }
  td.uptime .sub { display: inline; margin-left: 4px; }
  td.when { order: 8; margin-left: auto; }
  tr.group td { flex: 1 1 100%; white-space: normal; padding: 0; }
}
@media (prefers-reduced-motion: no-preference) {
  tr.flash-a td { animation: flash-a 1.2s ease-out; }
  tr.flash-b td { animation: flash-b 1.2s ease-out; }
  @keyframes flash-a { from { background: var(--hover); } to { background: transparent; } }
  @keyframes flash-b { from { background: var(--hover); } to { background: transparent; } }
}
`;
