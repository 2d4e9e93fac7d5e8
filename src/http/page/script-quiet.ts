/**
 * Page script, part 4: silences and firing alerts. `/api/silences` gives the
 * comment and end of each silence a row names in `silenced_by` and the list
 * of active silences (each with Expire: `DELETE /api/silences/{id}`, with the
 * refresh's authorisation, part 5). `/api/alerts` gives the firing-alerts
 * strip; a 404 there means alerting is off: no strip, no more requests.
 * Both are read at start, every POLL ms, and soon after the rows change. @internal
 */
export const SCRIPT_QUIET = String.raw`
const POLL = 15000;
// Entries shown at most: the server bounds silences (10,000 at most), the page bounds what it draws.
const MAX_LISTED = 200;
const MAX_ALERT_PROVIDERS = 6;
const silences = new Map();
const windows = new Map();
// data-silences / data-alerts="off" on <html>: the handler does not serve that API.
const quiet = { available: document.documentElement.dataset.silences !== 'off', loaded: false, timer: 0, soon: false, unknown: new Set(), key: '' };
const alerts = { available: document.documentElement.dataset.alerts !== 'off', timer: 0, soon: false, key: '' };

function formatUntil(iso) {
  const at = new Date(iso);
  if (!Number.isFinite(at.getTime())) return 'an unknown time';
  const now = new Date();
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return at.toDateString() === now.toDateString() ? time : at.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

// The note of a silenced row: the silence (or window) in force that ends last.
function silenceNote(p) {
  const ids = Array.isArray(p.silenced_by) ? p.silenced_by : [];
  let best;
  for (const id of ids) {
    const found = silences.get(id) || windows.get(id);
    if (!found) {
      if (quiet.loaded && !quiet.unknown.has(id)) { quiet.unknown.add(id); soon('silences'); }
      continue;
    }
    if (!best || Date.parse(found.endsAt) > Date.parse(best.endsAt)) best = found;
  }
  if (!best) return { text: 'Silenced', title: ids.join(', ') };
  const more = ids.length > 1 ? ' (+' + (ids.length - 1) + ' more)' : '';
  const text = 'Silenced until ' + formatUntil(best.endsAt) + (best.comment ? ' \u00b7 ' + best.comment : '') + more;
  const by = best.createdBy ? ' by ' + best.createdBy : best.name ? ' (maintenance window ' + best.name + ')' : '';
  return { text, title: 'Silenced' + by + ' until ' + new Date(best.endsAt).toLocaleString() + (best.comment ? ': ' + best.comment : '') };
}

// A fetch of 'what' within a second, once however many rows ask for it meanwhile.
function soon(what) {
  const state = what === 'alerts' ? alerts : quiet;
  if (!state.available || state.soon) return;
  state.soon = true;
  clearTimeout(state.timer);
  state.timer = setTimeout(what === 'alerts' ? loadAlerts : loadSilences, 1000);
}

async function getJSON(path) {
  try {
    const response = await fetch(api(path), { headers: { Accept: 'application/json' } });
    return { status: response.status, body: response.ok ? await response.json() : undefined };
  } catch {
    return { status: 0, body: undefined };
  }
}

async function loadSilences() {
  clearTimeout(quiet.timer);
  quiet.soon = false;
  if (!quiet.available) return;
  const { status, body } = await getJSON('/api/silences');
  if (status === 404) {
    quiet.available = false;
    $('silences').hidden = true;
    return;
  }
  quiet.timer = setTimeout(loadSilences, POLL);
  if (!body || !Array.isArray(body.silences)) return;
  silences.clear();
  windows.clear();
  for (const s of body.silences) silences.set(s.id, s);
  for (const w of Array.isArray(body.windows) ? body.windows : []) windows.set(w.name, w);
  quiet.loaded = true;
  quiet.unknown.clear();
  renderSilences();
  for (const name of rendered.keys()) if (typeof name === 'string') dirty.add(name);
  schedule();
}

function matchersText(m) {
  if (typeof m === 'string') return m === '' ? 'every provider' : m;
  if (!Array.isArray(m)) return '';
  return m.slice(0, 5).join(', ') + (m.length > 5 ? ' +' + (m.length - 5) + ' more' : '');
}

function silenceItem(s, isWindow) {
  const li = el('li', 'silence' + (isWindow ? ' window' : ''));
  if (!isWindow) li.dataset.silenceId = s.id;
  const what = el('span', 'silence-what', isWindow ? s.name + ': ' + matchersText(s.selector) : matchersText(s.matchers));
  const pending = Date.parse(s.startsAt) > Date.now();
  const when = (pending ? 'from ' + formatUntil(s.startsAt) + ' ' : '') + 'until ' + formatUntil(s.endsAt);
  const meta = [when, isWindow ? 'maintenance window' : s.createdBy ? 'by ' + s.createdBy : '', s.endsOnRecovery ? 'ends on recovery' : ''];
  li.append(what, el('span', 'silence-comment', s.comment || ''), el('span', 'silence-meta', meta.filter(Boolean).join(' \u00b7 ')));
  if (!isWindow) {
    const button = el('button', 'ghost', 'Expire');
    button.type = 'button';
    button.setAttribute('aria-label', 'Expire the silence of ' + matchersText(s.matchers));
    button.addEventListener('click', () => expire(button, s.id));
    li.append(button);
  }
  return li;
}

function renderSilences() {
  const list = [...silences.values()];
  const open = [...windows.values()];
  const key = JSON.stringify([list, open]);
  if (key === quiet.key) return;
  quiet.key = key;
  $('silences').hidden = list.length + open.length === 0;
  const n = list.length, w = open.length;
  $('silence-count').textContent = [n ? n + (n === 1 ? ' silence' : ' silences') : '', w ? w + (w === 1 ? ' maintenance window' : ' maintenance windows') : ''].filter(Boolean).join(', ');
  const items = [...list.slice(0, MAX_LISTED).map((s) => silenceItem(s, false)), ...open.slice(0, MAX_LISTED).map((s) => silenceItem(s, true))];
  if (n > MAX_LISTED) items.push(el('li', 'silence more', (n - MAX_LISTED) + ' more (see /api/silences)'));
  $('silence-list').replaceChildren(...items);
}

// Two clicks: the first arms the button for 4 s, the second ends the silence.
function expire(button, id) {
  if (button.dataset.armed !== 'true') {
    button.dataset.armed = 'true';
    button.textContent = 'Confirm expire';
    setTimeout(() => { button.dataset.armed = ''; button.textContent = 'Expire'; }, 4000);
    return;
  }
  return busy(button, async () => {
    const result = await write('/api/silences/' + encodeURIComponent(id), 'DELETE');
    if (result.status === 204 || result.status === 200) feedback('Silence expired.', 'ok');
    else if (result.status === 404) feedback('That silence had already ended.', 'ok');
    else if (result.status === 401) refused(result, 'expire silences', () => expire(button, id));
    else refused(result, 'expire silences', undefined);
    if (result.status !== 401) void loadSilences();
  });
}

async function loadAlerts() {
  clearTimeout(alerts.timer);
  alerts.soon = false;
  if (!alerts.available) return;
  const { status, body } = await getJSON('/api/alerts');
  if (status === 404) {
    alerts.available = false;
    $('alerts').hidden = true;
    return;
  }
  alerts.timer = setTimeout(loadAlerts, POLL);
  if (body && Array.isArray(body.firing)) renderAlerts(body.firing, Array.isArray(body.deliveries) ? body.deliveries : []);
}

function alertItem(a) {
  const li = el('li', 'alert');
  li.dataset.rule = a.rule;
  const since = a.since || a.startedAt;
  const members = (Array.isArray(a.providers) ? a.providers : []).map((p) => (typeof p === 'string' ? { name: p } : p));
  li.append(el('b', 'alert-rule', a.rule), el('span', 'alert-since', since ? 'since ' + formatUntil(since) + ' (' + formatAgo(since).replace(' ago', '') + ')' : ''));
  const names = el('span', 'alert-providers');
  // 'count': every member, when the server listed only some.
  const total = Number.isInteger(a.count) ? Math.max(a.count, members.length) : members.length;
  const shown = Math.min(members.length, MAX_ALERT_PROVIDERS);
  names.textContent = members.slice(0, shown).map((p) => p.name + (p.state ? ' (' + p.state + ')' : '')).join(', ') +
    (total > shown ? ' +' + (total - shown) + ' more' : '');
  names.title = members.map((p) => p.name + (p.message ? ': ' + p.message : '')).join('\n');
  li.append(names);
  return li;
}

function renderAlerts(firing, deliveries) {
  const failed = deliveries.filter((d) => d.result === 'failed' || d.result === 'expired' || d.result === 'dropped');
  const key = JSON.stringify([firing, failed.length]);
  if (key === alerts.key) return;
  alerts.key = key;
  $('alerts').hidden = firing.length === 0 && failed.length === 0;
  $('alerts-title').textContent = firing.length === 0 ? 'No alerts firing' : firing.length + (firing.length === 1 ? ' alert firing' : ' alerts firing');
  const items = firing.slice(0, MAX_LISTED).map(alertItem);
  if (failed.length > 0) {
    const last = failed.reduce((a, b) => (String(b.at) > String(a.at) ? b : a));
    items.push(el('li', 'alert delivery', failed.length + ' recent ' + (failed.length === 1 ? 'delivery' : 'deliveries') + ' failed (last: ' + last.notifier + ', ' + last.result + ')'));
  }
  $('alert-list').replaceChildren(...items);
}
`;
