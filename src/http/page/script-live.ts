/**
 * Page script, part 3: summary, state chips and name filter (kept in the
 * URL), the live region, sparkline histories, the event stream and refresh.
 * @internal
 */
export const SCRIPT_LIVE = String.raw`
const api = (path) => (document.documentElement.dataset.base || '') + path;
const baseTitle = document.title;
const MAX_SAMPLES = 60;
// Up to this many providers the page loads every history at once; above it,
// only the histories of rows on screen, a few requests at a time.
const BULK_HISTORY_MAX = 1000;
const HISTORY_REQUESTS = 4;
const CHIP_ORDER = ['unhealthy', 'degraded', 'stale', 'unknown', 'healthy'];
let token = sessionStorage.getItem('provider-health-token') || '';
const chips = new Map();
let summaryKey = '';

function readFilterFromUrl() {
  const now = new URLSearchParams(location.search);
  filter.states = new Set((now.get('state') || '').split(',').filter((s) => STATES.includes(s)));
  filter.text = (now.get('q') || '').toLowerCase();
  $('filter').value = now.get('q') || '';
}

function writeFilterToUrl() {
  const url = new URL(location.href);
  if (filter.states.size > 0) url.searchParams.set('state', CHIP_ORDER.filter((s) => filter.states.has(s)).join(','));
  else url.searchParams.delete('state');
  const text = $('filter').value.trim();
  if (text) url.searchParams.set('q', text);
  else url.searchParams.delete('q');
  history.replaceState(null, '', url);
}

function filterChanged() {
  filter.text = $('filter').value.trim().toLowerCase();
  writeFilterToUrl();
  viewDirty = true;
  schedule();
}

function buildChips() {
  const group = $('chips');
  for (const state of CHIP_ORDER) {
    const chip = el('button', 'chip');
    chip.type = 'button';
    chip.dataset.state = state;
    const dot = el('span', 'dot d-' + state);
    dot.setAttribute('aria-hidden', 'true');
    const count = el('b', '', '0');
    chip.append(dot, el('span', '', LABELS[state]), count);
    chip.addEventListener('click', () => {
      if (filter.states.has(state)) filter.states.delete(state);
      else filter.states.add(state);
      filterChanged();
    });
    chips.set(state, { chip, count });
    group.append(chip);
  }
}

function renderFilterStatus(all) {
  for (const [state, { chip }] of chips) chip.setAttribute('aria-pressed', String(filter.states.has(state)));
  const total = providers.size;
  $('shown').textContent = all ? total + (total === 1 ? ' provider' : ' providers') : view.length + ' of ' + total + ' shown';
  $('empty').hidden = view.length > 0;
  $('empty').textContent = total === 0 ? 'No providers are registered.' : 'No provider matches the filter.';
}

// Runs every frame, but touches the DOM only when a count changed.
function renderSummary() {
  const key = STATES.map((s) => counts[s]).join(',');
  if (key === summaryKey) return;
  summaryKey = key;
  const list = $('counts');
  list.replaceChildren();
  for (const s of STATES) {
    chips.get(s).count.textContent = String(counts[s]);
    if (counts[s] === 0) continue;
    const li = el('li');
    const dot = el('span', 'dot d-' + s);
    dot.setAttribute('aria-hidden', 'true');
    li.append(dot, el('b', '', String(counts[s])), document.createTextNode(LABELS[s].toLowerCase()));
    list.append(li);
  }
  const bad = counts.unhealthy + counts.stale + counts.unknown;
  const total = providers.size;
  let state = 'healthy', text = total === 0 ? 'No providers' : 'All ' + total + ' operational';
  if (bad > 0) {
    state = counts.unhealthy + counts.stale > 0 ? 'unhealthy' : 'unknown';
    text = bad + ' of ' + total + ' not healthy';
  } else if (counts.degraded > 0) {
    state = 'degraded';
    text = counts.degraded + ' of ' + total + ' degraded';
  }
  $('overall').className = 'overall s-' + state;
  $('overall').textContent = text;
  document.title = (bad > 0 ? '(' + bad + ') ' : '') + baseTitle;
}

// The live region speaks transitions only, at most once a second: one by
// name, a burst as a count per new state (bounded however many arrive).
const pending = { count: 0, first: [], byState: {} };
let lastSpoken = -Infinity;
let speakTimer = 0;

function transition(name, state) {
  pending.count++;
  pending.byState[state] = (pending.byState[state] || 0) + 1;
  if (pending.first.length < 3) pending.first.push(state === 'removed' ? name + ' was removed' : name + ' is now ' + LABELS[state].toLowerCase());
}

function flushTransitions() {
  if (pending.count === 0 || speakTimer) return;
  const wait = lastSpoken + 1000 - performance.now();
  if (wait > 0) {
    speakTimer = setTimeout(() => { speakTimer = 0; flushTransitions(); }, wait);
    return;
  }
  lastSpoken = performance.now();
  const parts = Object.keys(pending.byState).map((s) => pending.byState[s] + (s === 'removed' ? ' removed' : ' now ' + LABELS[s].toLowerCase()));
  $('announcer').textContent = pending.count <= 3 ? pending.first.join('; ') : pending.count + ' providers changed: ' + parts.join(', ');
  pending.count = 0;
  pending.first = [];
  pending.byState = {};
}

function feedback(text, kind) {
  const node = $('feedback');
  node.textContent = text;
  node.dataset.kind = kind || '';
}

function addSample(p) {
  if (p.state === 'unknown') return;
  const list = histories.get(p.name);
  if (!list) {
    if (providers.size <= BULK_HISTORY_MAX) histories.set(p.name, [sampleOf(p)]);
    return;
  }
  const last = list[list.length - 1];
  if (last && last.checked_at === p.checked_at) return;
  list.push(sampleOf(p));
  if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
}

function sampleOf(p) {
  return { checked_at: p.checked_at, latency: p.latency, state: p.healthy ? 'healthy' : 'unhealthy' };
}

async function loadAllHistory() {
  try {
    const response = await fetch(api('/api/history'), { headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    const all = await response.json();
    histories.clear();
    for (const name of Object.keys(all)) histories.set(name, all[name].slice(-MAX_SAMPLES));
    for (const name of rendered.keys()) dirty.add(name);
    schedule();
  } catch {
    // The table still works without sparklines; the next snapshot retries.
  }
}

// Large fleets: the histories of rendered rows, fetched once each, HISTORY_REQUESTS at a time.
const historyAsked = new Set();
let historyInFlight = 0;
let historyTimer = 0;

function afterRender() {
  if (providers.size <= BULK_HISTORY_MAX || historyTimer) return;
  historyTimer = setTimeout(() => { historyTimer = 0; loadVisibleHistory(); }, 150);
}

function loadVisibleHistory() {
  for (const name of rendered.keys()) {
    if (historyInFlight >= HISTORY_REQUESTS) return;
    if (historyAsked.has(name)) continue;
    historyAsked.add(name);
    historyInFlight++;
    fetch(api('/api/providers/' + encodeURIComponent(name) + '/history'), { headers: { Accept: 'application/json' } })
      .then((response) => (response.ok ? response.json() : undefined))
      .then((body) => {
        if (!body || !providers.has(name)) return;
        histories.set(name, body.samples.slice(-MAX_SAMPLES));
        dirty.add(name);
        schedule();
      })
      .catch(() => historyAsked.delete(name))
      .finally(() => { historyInFlight--; loadVisibleHistory(); });
  }
}

function setConnection(state, text) {
  const node = $('connection');
  node.dataset.state = state;
  node.textContent = text;
}

function onChange(p) {
  applyChange(p);
  addSample(p);
}

function connect() {
  const source = new EventSource(api('/api/events?batch=1'));
  source.addEventListener('open', () => setConnection('live', 'Live'));
  source.addEventListener('error', () => {
    const closed = source.readyState === EventSource.CLOSED;
    setConnection(closed ? 'offline' : 'reconnecting', closed ? 'Offline' : 'Reconnecting\u2026');
    if (closed) setTimeout(connect, 5000);
  });
  source.addEventListener('snapshot', (event) => {
    replaceAll(JSON.parse(event.data));
    setConnection('live', 'Live');
    historyAsked.clear();
    if (providers.size <= BULK_HISTORY_MAX) void loadAllHistory();
    else histories.clear();
    if (timing && !performance.getEntriesByName('rows-known').length) performance.mark('rows-known');
  });
  source.addEventListener('change', (event) => onChange(JSON.parse(event.data)));
  // ?batch=1: one 'changes' event per publish interval, each provider once, as it is when sent.
  source.addEventListener('changes', (event) => {
    const batch = JSON.parse(event.data);
    for (const p of batch.changed || []) onChange(p);
    for (const name of batch.removed || []) applyRemove(name);
  });
  source.addEventListener('remove', (event) => applyRemove(JSON.parse(event.data).name));
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
let typing = 0;
$('filter').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(filterChanged, 120);
});
addEventListener('popstate', () => { readFilterFromUrl(); viewDirty = true; schedule(); });

// "3 s ago" texts: only the rendered rows.
setInterval(() => {
  for (const [name, row] of rendered) {
    const p = providers.get(name);
    if (p && p.state !== 'unknown') row.time.textContent = formatAgo(p.checked_at);
  }
}, 1000);

buildChips();
readFilterFromUrl();
connect();
`;
