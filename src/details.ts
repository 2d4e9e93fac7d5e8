import { cleanMessage } from './messages.js';

/**
 * Copies a checker's `details` into plain, frozen, JSON-safe data, so that what
 * readers serve can neither throw (revoked proxies, throwing getters or key
 * listings) nor leak (secrets in strings), nor grow without bound.
 * @internal
 */

/** The bounds of a copy; each is stated in the README. */
export const DETAIL_LIMITS = Object.freeze({
  /** Levels of nesting: an object or array at this depth below `details` becomes `[Too deep]`. */
  depth: 8,
  /** Keys kept per object and items per array; one `[Truncated]` marker stands for the rest. */
  entries: 64,
  /** Values copied in all (objects, arrays and leaves); the rest become `[Truncated]`. */
  nodes: 512,
  /** Characters kept of a string value (scrubbed like messages). */
  string: 512,
  /** Characters kept of a key. */
  key: 128,
});

/** The markers, the same the HTTP surface uses. */
const UNREADABLE = '[Unreadable]';
const CIRCULAR = '[Circular]';
const TOO_DEEP = '[Too deep]';
const TRUNCATED = '[Truncated]';

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /^(?:authorization|password|passwd|secret|token|access_?token|api[_-]?key|cookie)$/i;

class Copier {
  #nodes = 0;
  /** The objects on the current path, for cycles. */
  readonly #ancestors = new Set<object>();

  copy(value: unknown, depth: number): unknown {
    if (++this.#nodes > DETAIL_LIMITS.nodes) return TRUNCATED;
    switch (typeof value) {
      case 'string':
        return cleanMessage(value, DETAIL_LIMITS.string);
      case 'number':
        // As JSON.stringify would write them.
        return Number.isFinite(value) ? value : null;
      case 'boolean':
        return value;
      case 'bigint':
        return String(value);
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      default:
        return value === null ? null : this.#object(value as object, depth);
    }
  }

  #object(value: object, depth: number): unknown {
    try {
      // Even `instanceof` and `Array.isArray` throw on a revoked Proxy.
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? null : new Date(ms).toISOString();
      }
      if (this.#ancestors.has(value)) return CIRCULAR;
      if (depth >= DETAIL_LIMITS.depth) return TOO_DEEP;
      this.#ancestors.add(value);
      try {
        return Array.isArray(value) ? this.#array(value, depth) : this.#record(value, depth);
      } finally {
        this.#ancestors.delete(value);
      }
    } catch {
      // A revoked proxy, or a trap or getter that throws: a marker, never a throw.
      return UNREADABLE;
    }
  }

  #array(value: readonly unknown[], depth: number): readonly unknown[] {
    const length = value.length;
    const out: unknown[] = [];
    for (let i = 0; i < Math.min(length, DETAIL_LIMITS.entries); i++) {
      out.push(this.#read(() => value[i], depth) ?? null);
    }
    if (length > DETAIL_LIMITS.entries) out.push(TRUNCATED);
    return Object.freeze(out);
  }

  #record(value: object, depth: number): Readonly<Record<string, unknown>> {
    const keys = Object.keys(value);
    const out: Record<string, unknown> = {};
    const put = (key: string, item: unknown): void => {
      // defineProperty, so a key such as `__proto__` stays a plain key.
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: false });
    };
    for (const key of keys.slice(0, DETAIL_LIMITS.entries)) {
      const name = key.length > DETAIL_LIMITS.key ? `${key.slice(0, DETAIL_LIMITS.key - 1)}…` : key;
      const item = SECRET_KEY.test(key)
        ? '***'
        : this.#read(() => (value as Record<string, unknown>)[key], depth);
      if (item !== undefined) put(name, item);
    }
    if (keys.length > DETAIL_LIMITS.entries) put('…', TRUNCATED);
    return Object.freeze(out);
  }

  #read(get: () => unknown, depth: number): unknown {
    try {
      return this.copy(get(), depth + 1);
    } catch {
      return UNREADABLE;
    }
  }
}

/**
 * The copy served as `Status.details`: plain objects and arrays, strings,
 * finite numbers and booleans, frozen, within {@link DETAIL_LIMITS}. Never
 * throws; what cannot be read becomes `[Unreadable]`, a cycle `[Circular]`.
 */
export function copyDetails(details: object): Readonly<Record<string, unknown>> {
  const copy = new Copier().copy(details, 0);
  return typeof copy === 'object' && copy !== null && !Array.isArray(copy)
    ? (copy as Readonly<Record<string, unknown>>)
    : Object.freeze({ value: copy });
}
