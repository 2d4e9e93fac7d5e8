/**
 * Page script, part 2: the provider model and the virtual table. Changes are
 * applied by name in O(1) and marked dirty; one animation frame re-renders
 * only the rows in view plus a margin, inside a container sized for every
 * row at a fixed row height (CSS `--row-h`). The table's items are provider
 * names and group header rows (part 3), all of that one height. @internal
 */
export const SCRIPT_TABLE = String.raw`
const params = new URLSearchParams(location.search);
// ?virtual=0 renders every row (kept for measuring the page against itself).
const virtual = params.get('virtual') !== '0';
// ?timing=1 records one performance measure per rendered frame.
const timing = params.get('timing') === '1';
const MARGIN = 12;

const providers = new Map();
const histories = new Map();
const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
let names = [];
let view = [];
const rendered = new Map();
// Each rendered <tr> -> its row, for keyboard moves from a focused button.
const rowOf = new WeakMap();
const dirty = new Set();
let viewDirty = true;
let frameQueued = false;
let rowHeight = 0;
let headHeight = 0;
const filter = { states: new Set(), text: '' };

const $ = (id) => document.getElementById(id);
const table = $('table');
const tbody = $('rows');
const sizer = $('sizer');
const thead = table.tHead;

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

function position(name) {
  let lo = 0, hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (names[mid] < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function schedule() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(frame);
}

// A snapshot (on connect and after a reconnect): transitions missed while
// away are still announced.
function replaceAll(list) {
  const before = new Map(providers);
  providers.clear();
  resetTallies();
  for (const s of STATES) counts[s] = 0;
  for (const p of list) {
    tally(p, 1);
    providers.set(p.name, p);
    counts[p.state]++;
    const previous = before.get(p.name);
    if (previous && previous.state !== p.state) transition(p.name, p.state);
  }
  names = [...providers.keys()].sort(compare);
  for (const name of rendered.keys()) dirty.add(name);
  viewDirty = true;
  schedule();
}

// One provider's new status: O(1) except for a new name (a sorted insert).
function applyChange(p) {
  const previous = providers.get(p.name);
  providers.set(p.name, p);
  noteChange(previous, p);
  if (!previous) {
    names.splice(position(p.name), 0, p.name);
    counts[p.state]++;
    viewDirty = true;
  } else if (previous.state !== p.state) {
    counts[previous.state]--;
    counts[p.state]++;
    if (filter.states.size > 0) viewDirty = true;
    transition(p.name, p.state);
  }
  dirty.add(p.name);
  schedule();
  return previous;
}

function applyRemove(name) {
  const previous = providers.get(name);
  if (!previous) return;
  providers.delete(name);
  histories.delete(name);
  tally(previous, -1);
  counts[previous.state]--;
  const at = position(name);
  if (names[at] === name) names.splice(at, 1);
  viewDirty = true;
  transition(name, 'removed');
  schedule();
}

function matches(name) {
  if (filter.states.size > 0 && !filter.states.has(providers.get(name).state)) return false;
  return filter.text === '' || name.toLowerCase().includes(filter.text);
}

function rebuildView() {
  const all = filter.states.size === 0 && filter.text === '';
  view = arrange(all ? names : names.filter(matches));
  table.setAttribute('aria-rowcount', String(view.length + 1));
  if (virtual) sizer.style.height = headHeight + view.length * rowHeight + 'px';
  renderFilterStatus(all);
}

function measureRowHeight() {
  rowHeight = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h')) || 57;
  headHeight = thead.offsetHeight;
}

// The rows [start, end) of view that are on screen, plus MARGIN rows each side.
function windowRange() {
  if (!virtual) return [0, view.length];
  const top = sizer.getBoundingClientRect().top + headHeight;
  const first = Math.floor(-top / rowHeight);
  const last = Math.ceil((innerHeight - top) / rowHeight);
  const start = Math.min(view.length, Math.max(0, first - MARGIN));
  const end = Math.min(view.length, Math.max(start, last + MARGIN));
  return [start, end];
}

// Adds rows entering the window and drops rows leaving it; rows that stay are
// never moved, so a focused button keeps its focus.
function renderWindow() {
  const [start, end] = windowRange();
  const wanted = view.slice(start, end);
  const keep = new Set(wanted);
  for (const [name, row] of rendered) {
    if (!keep.has(name)) {
      row.tr.remove();
      rendered.delete(name);
    }
  }
  let cursor = tbody.firstChild;
  wanted.forEach((item, i) => {
    const row = renderItem(item);
    if (row.index !== start + i) {
      row.index = start + i;
      row.tr.setAttribute('aria-rowindex', String(start + i + 2));
    }
    if (row.tr === cursor) cursor = cursor.nextSibling;
    else tbody.insertBefore(row.tr, cursor);
  });
  if (virtual) tbody.style.transform = 'translateY(' + start * rowHeight + 'px)';
}

// One item's row, made when it enters the window and refilled when dirty.
// Group rows are keyed by their (reused) group object, provider rows by name.
function renderItem(item) {
  let row = rendered.get(item);
  if (typeof item !== 'string') {
    if (!row) {
      row = makeGroupRow(item);
      rendered.set(item, row);
      rowOf.set(row.tr, row);
    }
    fillGroupRow(row, item);
    return row;
  }
  const p = providers.get(item);
  if (!row) {
    row = makeRow(item, refresh);
    rendered.set(item, row);
    rowOf.set(row.tr, row);
    fillRow(row, p, histories.get(item));
  } else if (dirty.has(item)) {
    fillRow(row, p, histories.get(item));
  }
  placeRow(row, item, p);
  return row;
}

function frame() {
  frameQueued = false;
  const started = performance.now();
  renderKeySelect();
  if (viewDirty) {
    viewDirty = false;
    rebuildView();
  } else if (groupCountsDirty) {
    recountGroups();
  }
  renderWindow();
  dirty.clear();
  renderSummary();
  flushTransitions();
  afterRender();
  if (timing) {
    performance.measure('status-render', { start: started, end: performance.now() });
    if (providers.size > 0 && !performance.getEntriesByName('rows-rendered').length) performance.mark('rows-rendered');
  }
}

// Arrow keys, Page keys, Home and End move between the rows' Check buttons,
// scrolling rows that are not rendered yet into view.
function moveFocus(event) {
  const tr = event.target.closest('tr');
  if (!tr || !event.target.matches('button')) return;
  const row = rowOf.get(tr);
  if (!row) return;
  const page = Math.max(1, Math.floor(innerHeight / rowHeight) - 2);
  const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const target = Math.max(0, Math.min(view.length - 1, row.index + moves[event.key]));
  focusIndex(target);
}

function focusIndex(index) {
  const item = view[index];
  if (item === undefined) return;
  if (virtual) {
    const top = sizer.getBoundingClientRect().top + headHeight + index * rowHeight;
    const header = document.querySelector('.topbar').getBoundingClientRect().bottom;
    if (top < Math.max(0, header)) scrollBy(0, top - Math.max(0, header));
    else if (top + rowHeight > innerHeight) scrollBy(0, top + rowHeight - innerHeight);
  }
  frameQueued = false;
  frame();
  const row = rendered.get(item);
  if (row) {
    row.button.focus({ preventScroll: virtual });
  }
}

tbody.addEventListener('keydown', moveFocus);
addEventListener('scroll', schedule, { passive: true });
addEventListener('resize', () => {
  measureRowHeight();
  viewDirty = true;
  schedule();
});
measureRowHeight();
`;
