/**
 * Page script, part 3: grouping by a label and nesting blocked providers.
 * `arrange` turns the filtered, sorted names into the table's items: group
 * header rows (objects, kept across rebuilds so their DOM rows are reused)
 * and provider names, a blocked provider right under the dependency that
 * blocks it. The grouping key and the collapsed groups live in the URL
 * (`?group=region&collapsed=eu,(none)`). @internal
 */
export const SCRIPT_GROUPS = String.raw`
// The token of the group of providers without the grouping label: parentheses
// are not allowed in label values, so no real value can collide with it.
const NO_VALUE = '(none)';
// Indentation stops here; deeper chains still nest, drawn at this depth.
const MAX_DEPTH = 4;
const grouping = { key: '', collapsed: new Set() };
const groups = new Map();
// name -> { depth, under } for rows nested under a blocking dependency.
const placement = new Map();
// Label key -> how many providers carry it (the choices of the group select).
const labelKeys = new Map();
let keysDirty = true;
let groupCountsDirty = false;
let shownCount = 0;

const own = (object, key) => object !== null && typeof object === 'object' && Object.prototype.hasOwnProperty.call(object, key);
const labelOf = (p, key) => (p && own(p.labels, key) && typeof p.labels[key] === 'string' && p.labels[key] !== '' ? p.labels[key] : NO_VALUE);
const isSilenced = (p) => p.silenced === true || (Array.isArray(p.silenced_by) && p.silenced_by.length > 0);
const blockers = (p) => (Array.isArray(p.blocked_by) ? p.blocked_by : []);

// Providers that do not count against the summary (as in /api/health):
// silenced ones, and blocked ones (failing because a dependency fails), per state.
const apart = { silenced: 0, blocked: 0, byState: Object.fromEntries(STATES.map((s) => [s, 0])) };
const apartKind = (p) => (isSilenced(p) ? 'silenced' : blockers(p).length > 0 ? 'blocked' : '');

function resetTallies() {
  labelKeys.clear();
  keysDirty = true;
  apart.silenced = 0;
  apart.blocked = 0;
  for (const s of STATES) apart.byState[s] = 0;
}

// Adds (delta 1) or takes away (-1) a provider's labels and whether it is apart.
function tally(p, delta) {
  if (!p) return;
  const kind = apartKind(p);
  if (kind) {
    apart[kind] += delta;
    apart.byState[p.state] += delta;
  }
  if (p.labels === null || typeof p.labels !== 'object') return;
  for (const key of Object.keys(p.labels)) {
    const n = (labelKeys.get(key) || 0) + delta;
    if (n > 0) labelKeys.set(key, n);
    else labelKeys.delete(key);
    if (n === 0 || n === delta) keysDirty = true;
  }
}

// Called for every new status: whether the table's structure changed (so the
// view is rebuilt) or only a group's summary (recounted in the next frame).
function noteChange(previous, p) {
  tally(previous, -1);
  tally(p, 1);
  if (!previous) return;
  if (blockers(previous).join('\n') !== blockers(p).join('\n')) viewDirty = true;
  if (grouping.key && labelOf(previous, grouping.key) !== labelOf(p, grouping.key)) viewDirty = true;
  if (previous.state !== p.state || isSilenced(previous) !== isSilenced(p)) groupCountsDirty = true;
  // A silence started or ended somewhere: the list of silences is read again.
  if (String(previous.silenced_by || '') !== String(p.silenced_by || '')) soon('silences');
}

function readGroupingFromUrl() {
  const now = new URLSearchParams(location.search);
  grouping.key = now.get('group') || '';
  grouping.collapsed = new Set(grouping.key ? (now.get('collapsed') || '').split(',').filter(Boolean) : []);
  keysDirty = true;
}

function writeGroupingToUrl(url) {
  if (grouping.key) url.searchParams.set('group', grouping.key);
  else url.searchParams.delete('group');
  if (grouping.key && grouping.collapsed.size > 0) url.searchParams.set('collapsed', [...grouping.collapsed].sort(compare).join(','));
  else url.searchParams.delete('collapsed');
}

function setGrouping(key) {
  grouping.key = key;
  grouping.collapsed.clear();
  groups.clear();
  writeFilterToUrl();
  viewDirty = true;
  schedule();
}

function toggleGroup(id) {
  if (grouping.collapsed.has(id)) grouping.collapsed.delete(id);
  else grouping.collapsed.add(id);
  writeFilterToUrl();
  viewDirty = true;
  schedule();
}

// The select lists every label key seen, plus the one in the URL even when no
// provider carries it (yet), so a shared link keeps its grouping.
function renderKeySelect() {
  if (!keysDirty) return;
  keysDirty = false;
  const select = $('group');
  const keys = [...labelKeys.keys()];
  if (grouping.key && !labelKeys.has(grouping.key)) keys.push(grouping.key);
  keys.sort(compare);
  const options = [el('option', '', 'No grouping')];
  options[0].value = '';
  for (const key of keys) {
    const option = el('option', '', key);
    option.value = key;
    options.push(option);
  }
  select.replaceChildren(...options);
  select.value = grouping.key;
}

function groupOf(id) {
  let group = groups.get(id);
  if (!group) {
    group = { id, members: [], counts: {}, collapsed: false, key: '' };
    groups.set(id, group);
  }
  return group;
}

// Each visible provider's parent: the first of its blockers that is shown too.
function parents(visible) {
  const parentOf = new Map();
  let shown;
  for (const name of visible) {
    const list = blockers(providers.get(name));
    if (list.length === 0) continue;
    shown = shown || new Set(visible);
    const parent = list.find((b) => b !== name && shown.has(b));
    if (parent !== undefined) parentOf.set(name, parent);
  }
  return parentOf;
}

// Depth-first from each root, iteratively: a blocked provider follows its
// parent, indented. Names caught in a loop (bad data) are placed as roots.
function nest(visible, parentOf) {
  const children = new Map();
  for (const name of visible) {
    const parent = parentOf.get(name);
    if (parent === undefined) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(name);
  }
  const order = [];
  const seen = new Set();
  const walk = (root) => {
    const stack = [[root, 0]];
    while (stack.length > 0) {
      const [name, depth] = stack.pop();
      if (seen.has(name)) continue;
      seen.add(name);
      order.push({ name, root, depth });
      const kids = children.get(name) || [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
  };
  for (const name of visible) if (!parentOf.has(name)) walk(name);
  for (const name of visible) if (!seen.has(name)) walk(name);
  return order;
}

// The table's items for the filtered names: the same array when there is
// nothing to group or nest (the common, fast case).
function arrange(visible) {
  placement.clear();
  shownCount = visible.length;
  const parentOf = parents(visible);
  if (!grouping.key && parentOf.size === 0) return visible;
  const order = nest(visible, parentOf);
  for (const item of order) {
    if (item.depth > 0) placement.set(item.name, { depth: Math.min(item.depth, MAX_DEPTH), under: parentOf.get(item.name) });
  }
  if (!grouping.key) return order.map((item) => item.name);
  const byId = new Map();
  for (const item of order) {
    // A nested provider goes with its root, whatever its own label says.
    const id = labelOf(providers.get(item.root), grouping.key);
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id).push(item.name);
  }
  const ids = [...byId.keys()].sort((a, b) => (a === NO_VALUE) - (b === NO_VALUE) || compare(a, b));
  for (const id of [...groups.keys()]) if (!byId.has(id)) groups.delete(id);
  const items = [];
  for (const id of ids) {
    const group = groupOf(id);
    group.members = byId.get(id);
    group.collapsed = grouping.collapsed.has(id);
    items.push(group);
    if (!group.collapsed) for (const name of group.members) items.push(name);
  }
  recountGroups();
  return items;
}

// Per group: silenced rows apart, then blocked ones, then the others by state.
function recountGroups() {
  groupCountsDirty = false;
  for (const group of groups.values()) {
    const c = { healthy: 0, degraded: 0, unhealthy: 0, stale: 0, unknown: 0, blocked: 0, silenced: 0 };
    for (const name of group.members) {
      const p = providers.get(name);
      if (!p) continue;
      if (isSilenced(p)) c.silenced++;
      else if (blockers(p).length > 0 && p.state !== 'healthy' && p.state !== 'degraded') c.blocked++;
      else c[p.state]++;
    }
    group.counts = c;
  }
}

const GROUP_COUNTS = ['unhealthy', 'stale', 'degraded', 'unknown', 'healthy', 'blocked', 'silenced'];

function groupState(c) {
  if (c.unhealthy + c.stale > 0) return 'unhealthy';
  if (c.unknown > 0) return 'unknown';
  if (c.degraded > 0) return 'degraded';
  return 'healthy';
}

// A header row: a toggle button (name, size, expanded or not) and the summary.
function makeGroupRow(group) {
  const tr = el('tr', 'group');
  const td = el('td');
  td.colSpan = 8;
  const button = el('button', 'group-toggle');
  button.type = 'button';
  const caret = el('span', 'caret');
  caret.setAttribute('aria-hidden', 'true');
  const title = el('span', 'group-name');
  const size = el('span', 'group-size');
  button.append(caret, title, size);
  button.addEventListener('click', () => toggleGroup(group.id));
  const summary = el('ul', 'group-counts');
  td.append(button, summary);
  tr.append(td);
  tr.dataset.group = group.id;
  return { tr, button, title, size, summary, isGroup: true, index: -1, key: '' };
}

function fillGroupRow(row, group) {
  const c = group.counts;
  const key = grouping.key + '|' + group.collapsed + '|' + group.members.length + '|' + GROUP_COUNTS.map((s) => c[s]).join(',');
  if (row.key === key) return;
  row.key = key;
  row.tr.dataset.state = groupState(c);
  row.tr.classList.toggle('collapsed', group.collapsed);
  row.button.setAttribute('aria-expanded', String(!group.collapsed));
  row.title.textContent = group.id === NO_VALUE ? 'No ' + grouping.key + ' label' : grouping.key + '=' + group.id;
  const n = group.members.length;
  row.size.textContent = n + (n === 1 ? ' provider' : ' providers');
  row.summary.replaceChildren();
  const words = { blocked: 'blocked', silenced: 'silenced' };
  for (const s of GROUP_COUNTS) {
    // The four the eye looks for are always there; the rest only when non-zero.
    if (c[s] === 0 && !['healthy', 'degraded', 'unhealthy', 'silenced'].includes(s)) continue;
    const li = el('li', 'gc-' + s + (c[s] === 0 ? ' zero' : ''));
    li.append(el('b', '', String(c[s])), document.createTextNode(' ' + (words[s] || LABELS[s].toLowerCase())));
    row.summary.append(li);
  }
}

// Indentation and the "blocked by" note of a provider row, set only when changed.
function placeRow(row, name, p) {
  const at = placement.get(name);
  const depth = at ? at.depth : 0;
  if (row.depth !== depth) {
    row.depth = depth;
    if (depth > 0) row.tr.dataset.depth = String(depth);
    else delete row.tr.dataset.depth;
  }
  const list = blockers(p);
  const note = list.length === 0 ? '' : 'blocked by ' + list.slice(0, 3).join(', ') + (list.length > 3 ? ' +' + (list.length - 3) : '');
  if (row.blockedNote !== note) {
    row.blockedNote = note;
    row.blocked.textContent = note;
    row.tr.classList.toggle('blocked', note !== '');
  }
}

$('group').addEventListener('change', (event) => setGrouping(event.currentTarget.value));
`;
