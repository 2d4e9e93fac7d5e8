import type { Selector } from '../selector.js';
import { isQueryError, quote, type QueryError } from './providers-query.js';
import type { RequestTarget } from './request-target.js';
import { selectorParam } from './selector-param.js';

/**
 * The parameters of `GET /api/health`, normalised. Other parameters are
 * ignored, as they always were (load balancers add their own). @internal
 */
export interface HealthQuery {
  /** The `provider` parameters, unique and sorted; empty for every provider. */
  readonly asked: readonly string[];
  /** Only providers whose labels it selects (`?selector=`); with `asked`, both must hold. */
  readonly selector: Selector | undefined;
  /** Blocked providers (a failed dependency) count against health (`?include_blocked=true`). */
  readonly includeBlocked: boolean;
  /** Silenced providers count against health (`?include_silenced=true`). */
  readonly includeSilenced: boolean;
  /** A canonical form: equal queries have equal keys ("" for the plain `/api/health`). */
  readonly key: string;
}

const SINGLE = ['selector', 'include_blocked', 'include_silenced'] as const;

/** Parses `provider` (repeatable), `selector`, `include_blocked` and `include_silenced`. @internal */
export function parseHealthQuery(target: RequestTarget): HealthQuery | QueryError {
  const given = new Map<string, string>();
  const asked = new Set<string>();
  for (const [key, value] of target.query) {
    if (key === 'provider') asked.add(value);
    else if ((SINGLE as readonly string[]).includes(key)) {
      if (given.has(key))
        return { error: `Query parameter ${quote(key)} is given more than once`, parameter: key };
      given.set(key, value);
    }
  }
  const selector = selectorParam(given.get('selector') ?? '');
  if (isQueryError(selector)) return selector;
  const includeBlocked = flag('include_blocked', given.get('include_blocked'));
  if (isQueryError(includeBlocked)) return includeBlocked;
  const includeSilenced = flag('include_silenced', given.get('include_silenced'));
  if (isQueryError(includeSilenced)) return includeSilenced;
  const sorted = [...asked].sort();
  const parts: string[] = [];
  // JSON, not a join: names may hold any character, the separator included.
  if (sorted.length > 0) parts.push(`provider=${JSON.stringify(sorted)}`);
  if (selector) parts.push(`selector=${selector.toString()}`);
  if (includeBlocked) parts.push('include_blocked');
  if (includeSilenced) parts.push('include_silenced');
  return { asked: sorted, selector, includeBlocked, includeSilenced, key: parts.join('&') };
}

/** `true`/`1`, `false`/`0`, or absent (false). */
function flag(parameter: string, value: string | undefined): boolean | QueryError {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  return {
    error: `Query parameter ${quote(parameter)} must be true, 1, false or 0, got ${quote(value)}`,
    parameter,
  };
}
