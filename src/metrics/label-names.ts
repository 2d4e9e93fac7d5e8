import type { Labels } from '../labels.js';

/**
 * Provider labels as Prometheus label names. Kubernetes keys allow `.`, `-`
 * and a `prefix/`, and may be camelCase or start with a digit; Prometheus
 * names are `[a-zA-Z_][a-zA-Z0-9_]*`, `__` is reserved, and
 * `promtool check metrics` refuses camelCase. The rules, deterministic for
 * a given label set:
 *
 * 1. every character outside `[A-Za-z0-9_]` becomes `_`
 *    (`app.kubernetes.io/name` → `app_kubernetes_io_name`);
 * 2. `_` goes between a lower-case letter and an upper-case one
 *    (`appVersion` → `app_Version`);
 * 3. a leading digit gets a `_` in front (`9lives` → `_9lives`), and a
 *    leading `__` an `l` (`__x` → `l__x`);
 * 4. collisions: keys already valid keep their name; the others, in sorted (UTF-16)
 *    key order, get the first free name of `name`, `name_2`, `name_3` …,
 *    where `provider` (the series' own label) and names taken are not free
 *    (`provider` → `provider_2`; `a.b` next to `a_b` → `a_b_2`).
 */

/** A key turned into a valid Prometheus label name (rules 1 to 3; collisions aside). */
export function sanitiseLabelName(key: string): string {
  let name = key.replace(/[^A-Za-z0-9_]/g, '_').replace(/([a-z])(?=[A-Z])/g, '$1_');
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (name.startsWith('__')) name = `l${name}`;
  return name === '' ? '_' : name;
}

/** Names taken before any provider label: the info series' own. */
const RESERVED = new Set(['provider']);

/** Each label set's names, computed once per (frozen, shared) label set. */
const cache = new WeakMap<Labels, readonly (readonly [string, string])[]>();

/**
 * `labels` as `[prometheusName, value]` pairs, sorted by key, with every
 * collision resolved (rule 4). Memoised per label set: the registry freezes
 * label sets and shares them, so a scrape of 10,000 providers sanitises
 * each distinct set once.
 */
export function prometheusLabels(labels: Labels): readonly (readonly [string, string])[] {
  const cached = cache.get(labels);
  if (cached !== undefined) return cached;
  const keys = Object.keys(labels).sort();
  const taken = new Set(RESERVED);
  const names = new Map<string, string>();
  for (const key of keys) {
    if (sanitiseLabelName(key) === key && !taken.has(key)) {
      names.set(key, key);
      taken.add(key);
    }
  }
  for (const key of keys) {
    if (names.has(key)) continue;
    const base = sanitiseLabelName(key);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    names.set(key, name);
    taken.add(name);
  }
  const pairs = Object.freeze(keys.map((key) => [names.get(key) as string, labels[key] as string] as const));
  if (Object.isFrozen(labels)) cache.set(labels, pairs);
  return pairs;
}
