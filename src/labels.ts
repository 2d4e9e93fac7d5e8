import { OptionRangeError, OptionTypeError } from './errors.js';
import { describeValue } from './validate.js';

/**
 * Provider metadata the core carries: labels (Kubernetes-style key/value
 * pairs, selected with `selector.ts`) and `dependsOn` (the names a provider
 * needs). Everything here is pure; the registry calls it.
 */

/** A provider's labels: frozen, with a null prototype, so `labels.constructor` is never inherited. */
export type Labels = Readonly<Record<string, string>>;

/** The most labels one provider may carry. */
export const MAX_LABELS = 64;
/** The longest key prefix (a DNS subdomain), as in Kubernetes. */
export const MAX_LABEL_PREFIX_LENGTH = 253;
/** The longest key name and the longest value, as in Kubernetes. */
export const MAX_LABEL_NAME_LENGTH = 63;
/** The most names one provider may depend on. */
export const MAX_DEPENDENCIES = 64;

// Name part of a key, and a value (which may also be empty): alphanumeric at both ends.
const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
// A DNS subdomain: lower-case labels of [a-z0-9-], alphanumeric at both ends, joined by dots.
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** An empty, frozen label set, shared by every provider registered without labels. */
export const NO_LABELS: Labels = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * Why `key` is not a valid label key, or `undefined` when it is: an optional
 * DNS-subdomain prefix (≤ 253 characters) and `/`, then a name of at most 63
 * characters of `[A-Za-z0-9._-]` that starts and ends alphanumeric.
 */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0) return 'a key prefix must not be empty';
    if (prefix.length > MAX_LABEL_PREFIX_LENGTH)
      return `a key prefix must be at most ${MAX_LABEL_PREFIX_LENGTH} characters`;
    if (!DNS_SUBDOMAIN.test(prefix)) return 'a key prefix must be a lower-case DNS subdomain';
  }
  if (name.length === 0) return 'a key name must not be empty';
  if (name.length > MAX_LABEL_NAME_LENGTH)
    return `a key name must be at most ${MAX_LABEL_NAME_LENGTH} characters`;
  if (!NAME.test(name)) return 'a key name must be [A-Za-z0-9._-] and start and end with a letter or digit';
  return undefined;
}

/** Why `value` is not a valid label value, or `undefined` when it is (empty is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > MAX_LABEL_NAME_LENGTH)
    return `a value must be at most ${MAX_LABEL_NAME_LENGTH} characters`;
  if (!NAME.test(value)) return 'a value must be [A-Za-z0-9._-] and start and end with a letter or digit';
  return undefined;
}

/** Whether `key` is a valid label key (see {@link labelKeyProblem}). */
export function isLabelKey(key: string): boolean {
  return labelKeyProblem(key) === undefined;
}

/** Whether `value` is a valid label value (see {@link labelValueProblem}). */
export function isLabelValue(value: string): boolean {
  return labelValueProblem(value) === undefined;
}

/**
 * Validates untrusted labels (a plain object of string values) and returns a
 * frozen, null-prototype copy; `undefined` gives {@link NO_LABELS}.
 * @param option The option's path for errors: each label is named `<option>.<key>`.
 * @throws OptionTypeError for a non-object or a non-string value; OptionRangeError
 *   for a bad key, a bad value or more than {@link MAX_LABELS} labels.
 */
export function validateLabels(value: unknown, option = 'labels'): Labels {
  if (value === undefined) return NO_LABELS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionTypeError(
      `Expected \`${option}\` to be an object of strings, got ${describeValue(value)}`,
      {
        option,
        value,
      },
    );
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_LABELS) {
    throw new OptionRangeError(
      `Expected \`${option}\` to hold at most ${MAX_LABELS} labels, got ${keys.length}`,
      { option, value: keys.length },
    );
  }
  // An empty literal whose prototype is dropped before any key is added: V8 then shares one
  // fast-mode shape between label sets with the same keys, even once frozen. Object.create(null)
  // makes a dictionary instead, and dropping the prototype after adding keys gives each frozen
  // set its own shape: either makes selector matching several times slower.
  const labels = Object.setPrototypeOf({}, null) as Record<string, string>;
  for (const key of keys.sort()) {
    const item: unknown = (value as Record<string, unknown>)[key];
    const path = `${option}.${key}`;
    if (typeof item !== 'string') {
      throw new OptionTypeError(`Expected \`${path}\` to be a string, got ${describeValue(item)}`, {
        option: path,
        value: item,
      });
    }
    const problem = labelKeyProblem(key) ?? labelValueProblem(item);
    if (problem !== undefined) {
      throw new OptionRangeError(`Invalid label \`${path}\`: ${problem}, got ${describeValue(item)}`, {
        option: path,
        value: item,
      });
    }
    labels[key] = item;
  }
  return Object.freeze(labels);
}

/**
 * Validates a `dependsOn` list: an array of distinct, non-empty names, not
 * holding `self`. Returns it frozen; `undefined` gives an empty array.
 * @throws OptionTypeError / OptionRangeError naming `<option>[i]`.
 */
export function validateDependsOn(value: unknown, self: string, option = 'dependsOn'): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) {
    throw new OptionTypeError(
      `Expected \`${option}\` to be an array of provider names, got ${describeValue(value)}`,
      {
        option,
        value,
      },
    );
  }
  if (value.length > MAX_DEPENDENCIES) {
    throw new OptionRangeError(
      `Expected \`${option}\` to hold at most ${MAX_DEPENDENCIES} names, got ${value.length}`,
      { option, value: value.length },
    );
  }
  const seen = new Set<string>();
  value.forEach((name: unknown, i) => {
    const path = `${option}[${i}]`;
    if (typeof name !== 'string' || name === '') {
      throw new OptionTypeError(`Expected \`${path}\` to be a non-empty string, got ${describeValue(name)}`, {
        option: path,
        value: name,
      });
    }
    const problem =
      name === self ? 'a provider cannot depend on itself' : seen.has(name) ? 'listed twice' : undefined;
    if (problem !== undefined) {
      throw new OptionRangeError(`Invalid \`${path}\`: ${problem}, got ${describeValue(name)}`, {
        option: path,
        value: name,
      });
    }
    seen.add(name);
  });
  return Object.freeze([...seen]);
}

/** A `dependsOn` graph that cannot be used: a name nobody registered, a cycle, or removing a name others need. */
export class DependencyError extends Error {
  /**
   * `unknown`: {@link provider} depends on {@link dependency}, which is not registered;
   * `dependent`: {@link dependency} cannot be removed while {@link provider} depends on it;
   * `cycle`: see {@link cycle}.
   */
  readonly kind: 'unknown' | 'dependent' | 'cycle';
  /** The provider whose `dependsOn` is at fault (for a cycle, the first in it). */
  readonly provider: string;
  /** The unknown name (`kind: 'unknown'`). */
  readonly dependency: string | undefined;
  /** The whole cycle, first name repeated at the end: `['a', 'b', 'a']` (`kind: 'cycle'`). */
  readonly cycle: readonly string[];

  constructor(
    init:
      | { kind: 'unknown' | 'dependent'; provider: string; dependency: string }
      | { kind: 'cycle'; cycle: string[] },
  ) {
    const message =
      init.kind === 'cycle'
        ? `Dependency cycle: ${init.cycle.map((name) => JSON.stringify(name)).join(' → ')}`
        : init.kind === 'unknown'
          ? `Provider ${JSON.stringify(init.provider)} depends on ${JSON.stringify(init.dependency)}, which is not registered`
          : `Provider ${JSON.stringify(init.dependency)} cannot be removed: ${JSON.stringify(init.provider)} depends on it`;
    super(message);
    this.name = 'DependencyError';
    this.kind = init.kind;
    this.provider = init.kind === 'cycle' ? (init.cycle[0] ?? '') : init.provider;
    this.dependency = init.kind === 'cycle' ? undefined : init.dependency;
    this.cycle = Object.freeze(init.kind === 'cycle' ? init.cycle : []);
  }
}

/** Whether `error` is a {@link DependencyError}. */
export function isDependencyError(error: unknown): error is DependencyError {
  return error instanceof DependencyError;
}

/**
 * Checks a whole `dependsOn` graph (provider name → the names it depends on):
 * every dependency is a key of `graph`, and there is no cycle. Deterministic
 * (names visited in sorted order), iterative (no recursion limit), O(V + E).
 * @throws DependencyError naming the unknown dependency or the whole cycle.
 */
export function checkDependencies(graph: ReadonlyMap<string, readonly string[]>): void {
  const names = [...graph.keys()].sort();
  for (const name of names) {
    for (const dependency of graph.get(name) ?? []) {
      if (!graph.has(dependency)) throw new DependencyError({ kind: 'unknown', provider: name, dependency });
    }
  }
  const cycle = findCycle(graph, names);
  if (cycle !== undefined) throw new DependencyError({ kind: 'cycle', cycle });
}

/** The first cycle found by depth-first search from `roots`, closed (`[a, b, a]`), or `undefined`. */
function findCycle(
  graph: ReadonlyMap<string, readonly string[]>,
  roots: readonly string[],
): string[] | undefined {
  const done = new Set<string>();
  for (const root of roots) {
    if (done.has(root)) continue;
    // The current path, with the index of the next dependency to visit at each step.
    const path: string[] = [root];
    const next: number[] = [0];
    const onPath = new Map<string, number>([[root, 0]]);
    while (path.length > 0) {
      const top = path.length - 1;
      const name = path[top] as string;
      const dependency = graph.get(name)?.[next[top] as number];
      if (dependency === undefined) {
        done.add(name);
        onPath.delete(name);
        path.pop();
        next.pop();
        continue;
      }
      next[top] = (next[top] as number) + 1;
      const at = onPath.get(dependency);
      if (at !== undefined) return [...path.slice(at), dependency];
      if (done.has(dependency)) continue;
      onPath.set(dependency, path.length);
      path.push(dependency);
      next.push(0);
    }
  }
  return undefined;
}
