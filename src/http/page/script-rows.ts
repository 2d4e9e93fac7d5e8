/**
 * Page script, part 1: formatting and one provider row (badge, sparkline,
 * cells, the silence note). Everything is built with DOM methods and `textContent`: names and
 * messages never reach an HTML parser. @internal
 */
export const SCRIPT_ROWS = String.raw`
const STATES = ['healthy', 'degraded', 'unhealthy', 'stale', 'unknown'];
const LABELS = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy', stale: 'Stale', unknown: 'Unknown' };
const GLYPHS = { healthy: '\u2713', degraded: '!', unhealthy: '\u2715', stale: '\u25F7', unknown: '?' };
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatLatency(ns) {
  const ms = ns / 1e6;
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
}

/** The 24 h / 7 d / 30 d uptime (the uptime cell's tooltip); '' when the server sends none. */
function windowsNote(p) {
  if (typeof p.uptime_24h !== 'number' || p.samples === 0) return '';
  const pct = (u) => (u === 1 || u === 0 ? String(u * 100) : (u * 100).toFixed(2)) + '%';
  // List and event rows carry no window percentiles (only /api/providers/{name} does).
  const p95 = typeof p.latency_p95_24h === 'number' ? ' (p95 latency 24 h ' + formatLatency(p.latency_p95_24h) + ')' : '';
  return 'Uptime: 24 h ' + pct(p.uptime_24h) + ', 7 d ' + pct(p.uptime_7d) + ', 30 d ' + pct(p.uptime_30d) + p95;
}

function formatAgo(iso) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at) || at < 86400000) return 'never';
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  return Math.floor(s / 86400) + ' d ago';
}

function badge(state) {
  const span = el('span', 'badge s-' + state);
  const glyph = el('span', 'glyph', GLYPHS[state]);
  glyph.setAttribute('aria-hidden', 'true');
  span.append(glyph, el('span', '', LABELS[state]));
  return span;
}

function svgNode(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const key of Object.keys(attributes)) node.setAttribute(key, attributes[key]);
  return node;
}

function sparkline(name, samples) {
  if (samples.length < 2) return el('span', 'spark-empty', samples.length === 1 ? 'one check so far' : 'no checks yet');
  const width = 132, height = 28, pad = 2;
  let max = 1;
  for (const s of samples) if (s.latency > max) max = s.latency;
  const step = (width - pad * 2) / (samples.length - 1);
  const points = samples.map((s, i) => [pad + i * step, height - pad - (s.latency / max) * (height - pad * 2)]);
  const sorted = samples.map((s) => s.latency).sort((a, b) => a - b);
  const failed = samples.filter((s) => s.state === 'unhealthy').length;
  const label = 'Latency of the last ' + samples.length + ' checks of ' + name + ': median ' +
    formatLatency(sorted[Math.floor(sorted.length / 2)]) + ', max ' + formatLatency(max) +
    (failed ? ', ' + failed + ' failed' : '');
  const svg = svgNode('svg', { class: 'spark', viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': label });
  const title = document.createElementNS(SVG, 'title');
  title.textContent = label;
  const line = points.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ');
  const last = points[points.length - 1][0].toFixed(1);
  svg.append(title,
    svgNode('polygon', { class: 'area', points: line + ' ' + last + ',' + height + ' ' + points[0][0].toFixed(1) + ',' + height }),
    svgNode('polyline', { points: line }));
  samples.forEach((s, i) => {
    if (s.state === 'unhealthy') svg.append(svgNode('circle', { cx: points[i][0].toFixed(1), cy: points[i][1].toFixed(1), r: '2.2' }));
  });
  return svg;
}

// One table row; its cells are filled by fillRow. onCheck is the row's refresh action.
// The name and message cells have a second line: "blocked by …" and the silence.
function makeRow(name, onCheck) {
  const tr = el('tr');
  tr.dataset.provider = name;
  const cells = {
    state: el('td', 'state-cell'),
    name: el('td', 'name'),
    latency: el('td', 'num latency'),
    spark: el('td', 'spark-cell'),
    uptime: el('td', 'num uptime'),
    when: el('td', 'when'),
    message: el('td', 'message'),
    action: el('td', 'num action'),
  };
  const blocked = el('span', 'sub blocked-note');
  cells.name.append(el('span', 'pname', name), blocked);
  cells.name.title = name;
  const message = el('span', 'msg');
  const quiet = el('span', 'sub quiet-note');
  cells.message.append(message, quiet);
  const time = el('time');
  cells.when.append(time);
  const button = el('button', 'ghost', 'Check');
  button.type = 'button';
  button.setAttribute('aria-label', 'Check ' + name + ' now');
  button.addEventListener('click', () => onCheck(button, name));
  cells.action.append(button);
  tr.append(cells.state, cells.name, cells.latency, cells.spark, cells.uptime, cells.when, cells.message, cells.action);
  return { tr, cells, time, button, blocked, message, quiet, state: undefined, index: -1, samples: undefined, depth: 0, blockedNote: '', quietNote: '' };
}

// A silenced row is muted and says until when and why (from /api/silences, part 4).
function fillQuiet(row, p) {
  const silenced = isSilenced(p);
  row.tr.classList.toggle('silenced', silenced);
  const note = silenced ? silenceNote(p) : { text: '', title: '' };
  if (row.quietNote !== note.text) {
    row.quietNote = note.text;
    row.quiet.textContent = note.text;
  }
  row.quiet.title = note.title;
}

function fillRow(row, p, samples) {
  if (row.state !== p.state) {
    row.cells.state.replaceChildren(badge(p.state));
    if (row.state !== undefined) {
      // Flash only a row that changed state while in view, not one scrolled into view.
      // Two classes with the same keyframes under two names restart the animation
      // without forcing a layout per row (which a burst would pay once per row).
      const again = row.tr.classList.contains('flash-a');
      row.tr.classList.toggle('flash-a', !again);
      row.tr.classList.toggle('flash-b', again);
    }
    row.state = p.state;
  }
  row.tr.dataset.state = p.state;
  const checked = p.state !== 'unknown';
  row.cells.latency.textContent = checked ? formatLatency(p.latency) : '\u2014';
  row.cells.latency.title = checked ? 'p50 ' + formatLatency(p.latency_p50) + ', p95 ' + formatLatency(p.latency_p95) : '';
  row.cells.uptime.replaceChildren();
  if (p.samples > 0) {
    row.cells.uptime.append(el('span', '', (p.uptime === 1 || p.uptime === 0 ? String(p.uptime * 100) : (p.uptime * 100).toFixed(1)) + '%'));
    row.cells.uptime.append(el('span', 'sub', 'of ' + p.samples + (p.samples === 1 ? ' check' : ' checks')));
  } else {
    row.cells.uptime.textContent = '\u2014';
  }
  row.cells.uptime.title = windowsNote(p);
  row.time.dateTime = checked ? p.checked_at : '';
  row.time.title = checked ? new Date(p.checked_at).toLocaleString() : 'not checked yet';
  row.time.textContent = checked ? formatAgo(p.checked_at) : 'never';
  row.message.textContent = p.message;
  row.cells.message.title = p.message;
  fillQuiet(row, p);
  // The sparkline is rebuilt only when its samples changed (a new list or a new sample).
  const key = samples ? samples.length + ':' + (samples.length ? samples[samples.length - 1].checked_at : '') : '';
  if (row.samples !== samples || row.sparkKey !== key) {
    row.samples = samples;
    row.sparkKey = key;
    // No samples yet on a large fleet: the row's history is still being fetched.
    const loading = !samples && p.samples >= 2;
    row.cells.spark.replaceChildren(
      loading ? el('span', 'spark-empty', 'loading…') : sparkline(row.tr.dataset.provider, samples || []));
  }
}
`;
