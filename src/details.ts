import { cleanMessage } from './messages.js';

/**
 * Copies a checker's `details` into plain, frozen, JSON-safe data, so that what
 * readers serve can neither throw (revoked proxies, throwing getters or key
 * listings) nor leak (secrets in strings), nor grow without bound.
 * @internal
 */

/** The bounds of a copy; each is stated in the README. */
export const DETAIL_LIMITS = Object.freeze({
  /** Levels of nesting kept below `details` itself; deeper values become a marker. */
  depth: 4,
  /** Keys kept per object and items per array; the rest are summarised by one marker. */
  entries: 32,
  /** Values copied in all (objects, arrays and leaves); the rest become markers. */
  nodes: 256,
  /** Characters kept of a string value (scrubbed like messages). */
  string: 256,
  /** Characters kept of a key. */
  key: 64,
});

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /^(?:authorization|password|passwd|secret|token|access_?token|api[_-]?key|cookie)$/i;

/** A short note standing in for what could not be copied. */
function marker(what: string): string {
  return `[${what}]`;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

class Copier {
  #nodes = 0;

  copy(value: unknown, depth: number): unknown {
    if (++this.#nodes > DETAIL_LIMITS.nodes) return marker('omitted: too many values');
    switch (typeof value) {
      case 'string':
        return cleanMessage(value, DETAIL_LIMITS.string);
      case 'number':
        return Number.isFinite(value) ? value : String(value);
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
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? marker('invalid date') : new Date(ms).toISOString();
      }
      if (depth >= DETAIL_LIMITS.depth) return marker('omitted: nested too deep');
      return Array.isArray(value) ? this.#array(value, depth) : this.#record(value, depth);
    } catch (error) {
      // A revoked proxy, or a trap or getter that throws: say so, never rethrow.
      return marker(`unreadable: ${errorName(error)}`);
    }
  }

  #array(value: readonly unknown[], depth: number): readonly unknown[] {
    const length = value.length;
    const out: unknown[] = [];
    for (let i = 0; i < Math.min(length, DETAIL_LIMITS.entries); i++) {
      out.push(this.#read(() => value[i], depth) ?? null);
    }
    if (length > DETAIL_LIMITS.entries) out.push(marker(`${length - DETAIL_LIMITS.entries} more items`));
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
    if (keys.length > DETAIL_LIMITS.entries)
      put('…', marker(`${keys.length - DETAIL_LIMITS.entries} more keys`));
    return Object.freeze(out);
  }

  #read(get: () => unknown, depth: number): unknown {
    try {
      return this.copy(get(), depth + 1);
    } catch (error) {
      return marker(`unreadable: ${errorName(error)}`);
    }
  }
}

/**
 * The copy served as `Status.details`: plain objects and arrays, strings,
 * finite numbers and booleans, frozen, within {@link DETAIL_LIMITS}. Never
 * throws; what cannot be read becomes a marker such as `[unreadable: TypeError]`.
 */
export function copyDetails(details: object): Readonly<Record<string, unknown>> {
  const copy = new Copier().copy(details, 0);
  return typeof copy === 'object' && copy !== null && !Array.isArray(copy)
    ? (copy as Readonly<Record<string, unknown>>)
    : Object.freeze({ value: copy });
}
