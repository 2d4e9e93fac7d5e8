/**
 * Page script, part 7 (last, it starts the page): summary, state chips and
 * name filter (kept in the URL with the grouping and the selector), the live
 * region, sparkline histories and the event stream. @internal
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
  if (selector.applied) url.searchParams.set('selector', selector.applied);
  else url.searchParams.delete('selector');
  writeGroupingToUrl(url);
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
  $('shown').textContent = all ? total + (total === 1 ? ' provider' : ' providers') : shownCount + ' of ' + total + ' shown';
  $('empty').hidden = shownCount > 0;
  $('empty').textContent = total > 0 ? 'No provider matches the filter.' : selector.applied ? 'No provider matches the selector.' : 'No providers are registered.';
}

// Runs every frame, but touches the DOM only when a count changed.
function renderSummary() {
  const key = STATES.map((s) => counts[s] + '/' + apart.byState[s]).join(',') + ',' + apart.silenced + ',' + apart.blocked;
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
  renderOverall();
}

// The headline, like /api/health: silenced and blocked providers do not count
// against it, and are named apart.
function renderOverall() {
  const n = (s) => counts[s] - apart.byState[s];
  const bad = n('unhealthy') + n('stale') + n('unknown');
  const quietBad = apart.silenced + apart.blocked - apart.byState.healthy;
  const total = providers.size;
  let state = 'healthy', text = total === 0 ? 'No providers' : 'All ' + total + ' operational';
  if (bad > 0) {
    state = n('unhealthy') + n('stale') > 0 ? 'unhealthy' : 'unknown';
    text = bad + ' of ' + total + ' not healthy';
  } else if (n('degraded') > 0) {
    state = 'degraded';
    text = n('degraded') + ' of ' + total + ' degraded';
  } else if (quietBad > 0) {
    text = total - quietBad + ' of ' + total + ' operational';
  }
  if (apart.blocked > 0) text += ' \u00b7 ' + apart.blocked + ' blocked';
  if (apart.silenced > 0) text += ' \u00b7 ' + apart.silenced + ' silenced';
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
  soon('alerts');
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
    if (typeof name !== 'string' || historyAsked.has(name)) continue;
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

let source;
let reconnectTimer = 0;

// Opens the event stream (again, after a new selector), closing the old one.
function connect() {
  clearTimeout(reconnectTimer);
  if (source) source.close();
  const current = new EventSource(api('/api/events?batch=1' + selectorQuery()));
  source = current;
  setConnection('connecting', 'Connecting\u2026');
  current.addEventListener('open', () => setConnection('live', 'Live'));
  current.addEventListener('error', () => {
    if (source !== current) return;
    const closed = current.readyState === EventSource.CLOSED;
    setConnection(closed ? 'offline' : 'reconnecting', closed ? 'Offline' : 'Reconnecting\u2026');
    if (closed) reconnectTimer = setTimeout(connect, 5000);
  });
  current.addEventListener('snapshot', (event) => {
    replaceAll(JSON.parse(event.data));
    setConnection('live', 'Live');
    historyAsked.clear();
    if (providers.size <= BULK_HISTORY_MAX) void loadAllHistory();
    else histories.clear();
    if (timing && !performance.getEntriesByName('rows-known').length) performance.mark('rows-known');
  });
  current.addEventListener('change', (event) => onChange(JSON.parse(event.data)));
  // ?batch=1: one 'changes' event per publish interval, each provider once, as it is when sent.
  current.addEventListener('changes', (event) => {
    const started = performance.now();
    const batch = JSON.parse(event.data);
    for (const p of batch.changed || []) onChange(p);
    for (const name of batch.removed || []) applyRemove(name);
    if (timing) performance.measure('status-apply', { start: started, end: performance.now() });
  });
  current.addEventListener('remove', (event) => applyRemove(JSON.parse(event.data).name));
}

let typing = 0;
$('filter').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(filterChanged, 120);
});
addEventListener('popstate', () => {
  readFilterFromUrl();
  readGroupingFromUrl();
  groups.clear();
  viewDirty = true;
  schedule();
  const wanted = readSelectorFromUrl();
  $('selector').value = wanted;
  if (wanted !== selector.applied) void applySelector(wanted, true);
});

// "3 s ago" texts: only the rendered rows.
setInterval(() => {
  for (const [name, row] of rendered) {
    const p = providers.get(name);
    if (p && p.state !== 'unknown') row.time.textContent = formatAgo(p.checked_at);
  }
}, 1000);

buildChips();
readFilterFromUrl();
readGroupingFromUrl();
$('selector').value = readSelectorFromUrl();
void applySelector($('selector').value, true);
void loadSilences();
void loadAlerts();
`;
