/**
 * The status page's script (an ES module, served same-origin so the CSP can
 * forbid inline code). It renders with `textContent` and DOM methods only:
 * names and messages never reach an HTML parser. @internal
 */
export const SCRIPT = String.raw`
const base = document.documentElement.dataset.base || '';
const api = (path) => base + path;
const STATES = ['healthy', 'degraded', 'unhealthy', 'stale', 'unknown'];
const LABELS = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy', stale: 'Stale', unknown: 'Unknown' };
const GLYPHS = { healthy: '\u2713', degraded: '!', unhealthy: '\u2715', stale: '\u25F7', unknown: '?' };
const MAX_SAMPLES = 60;
const SVG = 'http://www.w3.org/2000/svg';
const baseTitle = document.title;

const providers = new Map();
const histories = new Map();
const rows = new Map();
let token = sessionStorage.getItem('provider-health-token') || '';

const $ = (id) => document.getElementById(id);
const tbody = $('rows');

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

function sparkline(name, samples) {
  if (samples.length < 2) return el('span', 'spark-empty', samples.length === 1 ? 'one check so far' : 'no checks yet');
  const width = 132, height = 28, pad = 2;
  const max = Math.max(...samples.map((s) => s.latency), 1);
  const step = (width - pad * 2) / (samples.length - 1);
  const points = samples.map((s, i) => [pad + i * step, height - pad - (s.latency / max) * (height - pad * 2)]);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  svg.setAttribute('role', 'img');
  const sorted = samples.map((s) => s.latency).sort((a, b) => a - b);
  const failed = samples.filter((s) => s.state === 'unhealthy').length;
  const label = 'Latency of the last ' + samples.length + ' checks of ' + name + ': median ' +
    formatLatency(sorted[Math.floor(sorted.length / 2)]) + ', max ' + formatLatency(max) +
    (failed ? ', ' + failed + ' failed' : '');
  svg.setAttribute('aria-label', label);
  const title = document.createElementNS(SVG, 'title');
  title.textContent = label;
  const area = document.createElementNS(SVG, 'polygon');
  area.setAttribute('class', 'area');
  const line = points.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ');
  area.setAttribute('points', line + ' ' + points[points.length - 1][0].toFixed(1) + ',' + height + ' ' + points[0][0].toFixed(1) + ',' + height);
  const poly = document.createElementNS(SVG, 'polyline');
  poly.setAttribute('points', line);
  svg.append(title, area, poly);
  samples.forEach((s, i) => {
    if (s.state !== 'unhealthy') return;
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('cx', points[i][0].toFixed(1));
    dot.setAttribute('cy', points[i][1].toFixed(1));
    dot.setAttribute('r', '2.2');
    svg.append(dot);
  });
  return svg;
}

function makeRow(name) {
  const tr = el('tr');
  tr.dataset.provider = name;
  const cells = {
    state: el('td', 'state-cell'),
    name: el('td', 'name', name),
    latency: el('td', 'num latency'),
    spark: el('td', 'spark-cell'),
    uptime: el('td', 'num uptime'),
    when: el('td', 'when'),
    message: el('td', 'message'),
    action: el('td', 'num action'),
  };
  const time = el('time');
  cells.when.append(time);
  const button = el('button', 'ghost', 'Check');
  button.type = 'button';
  button.setAttribute('aria-label', 'Check ' + name + ' now');
  button.addEventListener('click', () => refresh(button, name));
  cells.action.append(button);
  tr.append(cells.state, cells.name, cells.latency, cells.spark, cells.uptime, cells.when, cells.message, cells.action);
  return { tr, cells, time, state: undefined };
}

function renderRow(name) {
  const p = providers.get(name);
  let row = rows.get(name);
  if (!row) {
    row = makeRow(name);
    rows.set(name, row);
  }
  if (row.state !== p.state) {
    row.cells.state.replaceChildren(badge(p.state));
    if (row.state !== undefined) {
      row.tr.classList.remove('flash');
      void row.tr.offsetWidth;
      row.tr.classList.add('flash');
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
  row.time.dateTime = checked ? p.checked_at : '';
  row.time.title = checked ? new Date(p.checked_at).toLocaleString() : 'not checked yet';
  row.time.textContent = checked ? formatAgo(p.checked_at) : 'never';
  row.cells.message.textContent = p.message;
  row.cells.spark.replaceChildren(sparkline(name, histories.get(name) || []));
}

function renderAll() {
  const names = [...providers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, row] of rows) {
    if (!providers.has(name)) {
      row.tr.remove();
      rows.delete(name);
    }
  }
  names.forEach((name) => renderRow(name));
  tbody.replaceChildren(...names.map((name) => rows.get(name).tr));
  renderSummary();
}

function renderSummary() {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const p of providers.values()) counts[p.state]++;
  const list = $('counts');
  list.replaceChildren();
  for (const s of STATES) {
    if (counts[s] === 0) continue;
    const li = el('li');
    const dot = el('span', 'dot d-' + s);
    dot.setAttribute('aria-hidden', 'true');
    li.append(dot, el('b', '', String(counts[s])), document.createTextNode(LABELS[s].toLowerCase()));
    list.append(li);
  }
  const bad = counts.unhealthy + counts.stale + counts.unknown;
  const overall = $('overall');
  const total = providers.size;
  let state = 'healthy', text = total === 0 ? 'No providers' : 'All ' + total + ' operational';
  if (bad > 0) {
    state = counts.unhealthy + counts.stale > 0 ? 'unhealthy' : 'unknown';
    text = bad + ' of ' + total + ' not healthy';
  } else if (counts.degraded > 0) {
    state = 'degraded';
    text = counts.degraded + ' of ' + total + ' degraded';
  }
  overall.className = 'overall s-' + state;
  overall.textContent = text;
  $('empty').hidden = total > 0;
  document.title = (bad > 0 ? '(' + bad + ') ' : '') + baseTitle;
}

function announce(text) {
  $('announcer').textContent = text;
}

function feedback(text, kind) {
  const node = $('feedback');
  node.textContent = text;
  node.dataset.kind = kind || '';
}

function addSample(p) {
  if (p.state === 'unknown') return;
  const list = histories.get(p.name) || [];
  const last = list[list.length - 1];
  if (last && last.checked_at === p.checked_at) return;
  list.push({ checked_at: p.checked_at, latency: p.latency, state: p.healthy ? 'healthy' : 'unhealthy' });
  if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
  histories.set(p.name, list);
}

async function loadHistory() {
  try {
    const response = await fetch(api('/api/history'), { headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    const all = await response.json();
    histories.clear();
    for (const name of Object.keys(all)) histories.set(name, all[name].slice(-MAX_SAMPLES));
    renderAll();
  } catch {
    // The table still works without sparklines; the next snapshot retries.
  }
}

function setConnection(state, text) {
  const node = $('connection');
  node.dataset.state = state;
  node.textContent = text;
}

function connect() {
  const source = new EventSource(api('/api/events'));
  source.addEventListener('open', () => setConnection('live', 'Live'));
  source.addEventListener('error', () => {
    setConnection(source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting', source.readyState === EventSource.CLOSED ? 'Offline' : 'Reconnecting\u2026');
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
  source.addEventListener('snapshot', (event) => {
    const list = JSON.parse(event.data);
    providers.clear();
    for (const p of list) providers.set(p.name, p);
    setConnection('live', 'Live');
    renderAll();
    void loadHistory();
  });
  source.addEventListener('change', (event) => {
    const p = JSON.parse(event.data);
    const previous = providers.get(p.name);
    providers.set(p.name, p);
    addSample(p);
    if (!previous) renderAll();
    else {
      renderRow(p.name);
      renderSummary();
    }
    if (previous && previous.state !== p.state) announce(p.name + ' is now ' + LABELS[p.state].toLowerCase());
  });
  source.addEventListener('remove', (event) => {
    const { name } = JSON.parse(event.data);
    providers.delete(name);
    histories.delete(name);
    renderAll();
    announce(name + ' was removed');
  });
}

async function refresh(button, name) {
  const path = name === undefined ? '/api/refresh' : '/api/providers/' + encodeURIComponent(name) + '/refresh';
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  feedback(name === undefined ? 'Checking every provider\u2026' : 'Checking ' + name + '\u2026');
  try {
    const response = await fetch(api(path), { method: 'POST', headers });
    const body = await response.json().catch(() => ({}));
    const what = name === undefined ? 'every provider' : name;
    if (response.status === 200) feedback('Checked ' + what + '.', 'ok');
    else if (response.status === 202) feedback('Still checking ' + what + '; results appear as they arrive.', 'ok');
    else if (response.status === 429) {
      const wait = Number(response.headers.get('Retry-After')) || 1;
      feedback('Checked moments ago: try again in ' + wait + ' s.', 'error');
    } else if (response.status === 401) {
      $('token-form').hidden = false;
      $('token').focus();
      feedback(token ? 'That refresh token was not accepted.' : 'This server needs a refresh token: enter it and retry.', 'error');
    } else if (response.status === 403) {
      feedback('Refresh is only allowed from the server itself (no token is configured).', 'error');
    } else {
      feedback('Refresh failed: ' + (body.error || 'HTTP ' + response.status), 'error');
    }
  } catch {
    feedback('Could not reach the server.', 'error');
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

$('refresh-all').addEventListener('click', (event) => refresh(event.currentTarget));
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  if (token) sessionStorage.setItem('provider-health-token', token);
  else sessionStorage.removeItem('provider-health-token');
  void refresh($('refresh-all'));
});

setInterval(() => {
  for (const [name, row] of rows) {
    const p = providers.get(name);
    if (p && p.state !== 'unknown') row.time.textContent = formatAgo(p.checked_at);
  }
}, 1000);

connect();
`;
