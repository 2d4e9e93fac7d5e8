/** How deep checker-supplied details are copied; deeper values are replaced by a marker. */
const MAX_DEPTH = 8;
/** How many values one `details` object may yield; the rest become `"[Truncated]"`. */
const MAX_VALUES = 10_000;

/** What one copy may still spend, and the objects on the current path (for cycles). */
interface Walk {
  readonly ancestors: Set<object>;
  budget: number;
}

/**
 * Copies checker-supplied `details` into values `JSON.stringify` always
 * accepts: bigints become strings, cycles `"[Circular]"`, anything that
 * throws when read (a getter, a revoked Proxy, a Proxy whose key listing
 * throws) `"[Unreadable]"`, functions and symbols are dropped; at most
 * {@link MAX_DEPTH} levels and {@link MAX_VALUES} values. A checker's odd
 * report must never turn a health endpoint into a 500. @internal
 */
export function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copy = plainValue(details, { ancestors: new Set(), budget: MAX_VALUES }, 0);
  return typeof copy === 'object' && copy !== null && !Array.isArray(copy)
    ? (copy as Record<string, unknown>)
    : { value: copy ?? null };
}

function plainValue(value: unknown, walk: Walk, depth: number): unknown {
  if (--walk.budget < 0) return '[Truncated]';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  try {
    // Even `instanceof` and `Array.isArray` throw on a revoked Proxy.
    return plainObjectLike(value, walk, depth);
  } catch {
    return '[Unreadable]';
  }
}

function plainObjectLike(value: object, walk: Walk, depth: number): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (walk.ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  walk.ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const length = Math.min(value.length, Math.max(walk.budget, 0) + 1);
      const copy: unknown[] = [];
      for (let i = 0; i < length; i++) copy.push(plainValue(readItem(value, i), walk, depth + 1) ?? null);
      return copy;
    }
    // A null prototype: a key named "__proto__" stays a key.
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) {
      if (walk.budget <= 0) {
        copy[key] = '[Truncated]';
        break;
      }
      const plain = plainValue(readItem(value, key), walk, depth + 1);
      if (plain !== undefined) copy[key] = plain;
    }
    return copy;
  } finally {
    walk.ancestors.delete(value);
  }
}

function readItem(value: object, key: string | number): unknown {
  try {
    return (value as Record<string | number, unknown>)[key];
  } catch {
    return '[Unreadable]';
  }
}
