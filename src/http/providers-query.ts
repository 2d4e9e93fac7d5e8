import { WINDOW_FIELDS } from '../history-json.js';
import type { Selector } from '../selector.js';
import type { HealthState } from '../status.js';
import type { RequestTarget } from './request-target.js';
import { selectorParam } from './selector-param.js';

/** The states `?state=` accepts. */
const STATES: readonly HealthState[] = ['healthy', 'degraded', 'unhealthy', 'stale', 'unknown'];

/** The wire fields `?fields=` accepts, in the order they are sent. @internal */
export const WIRE_FIELDS = [
  'name',
  'healthy',
  'message',
  'latency',
  'checked_at',
  'state',
  'stale',
  'consecutive_failures',
  'consecutive_successes',
  'last_success_at',
  'last_failure_at',
  'last_transition_at',
  'uptime',
  'latency_p50',
  'latency_p95',
  'details',
  // Issue 11 (labels, dependencies, silences), in statusToJSON's order; absent when empty.
  'depends_on',
  'blocked_by',
  'silenced',
  'silenced_by',
  'uptime_excluding_silenced',
  'labels',
  'samples',
  ...WINDOW_FIELDS,
] as const;

/** One of {@link WIRE_FIELDS}. @internal */
export type WireField = (typeof WIRE_FIELDS)[number];

/** The largest page `?limit=` asks for. @internal */
export const MAX_LIMIT = 10_000;
/** Values quoted in error messages are cut to this many characters. */
const MAX_QUOTED = 100;

/** The parameters of `GET /api/providers`, normalised. @internal */
export interface ProvidersQuery {
  /** Wanted states, in {@link STATES} order; `undefined` for every state. */
  readonly states: readonly HealthState[] | undefined;
  /** Wanted fields in wire order, `name` first; `undefined` for every field. */
  readonly fields: readonly string[] | undefined;
  readonly limit: number | undefined;
  /** Rows start after this name (the last name of the previous page). */
  readonly after: string | undefined;
  /** Only providers whose labels it selects; `undefined` for every provider. */
  readonly selector?: Selector | undefined;
  /** A canonical form: equal queries have equal keys ("" when no parameter is given). */
  readonly key: string;
}

/** A refused query: a message naming the parameter and the value (and, for a selector, the position). @internal */
export interface QueryError {
  readonly error: string;
  readonly parameter: string;
  readonly position?: number;
}

const PARAMETERS = ['state', 'fields', 'limit', 'after', 'selector'] as const;
type Parameter = (typeof PARAMETERS)[number];

/** Whether `value` is a {@link QueryError}. @internal */
export function isQueryError(value: unknown): value is QueryError {
  return typeof value === 'object' && value !== null && 'error' in value;
}

/**
 * Parses and validates the query of `GET /api/providers`: `state`, `fields`
 * (comma-separated lists), `limit` (1 to {@link MAX_LIMIT}), `after` and
 * `selector` (a label selector). Unknown and repeated parameters are refused. @internal
 */
export function parseProvidersQuery(target: RequestTarget): ProvidersQuery | QueryError {
  const given = new Map<Parameter, string>();
  for (const [key, value] of target.query) {
    if (!(PARAMETERS as readonly string[]).includes(key)) {
      return fail(
        key,
        `Unknown query parameter ${quote(key)}; /api/providers takes ${PARAMETERS.join(', ')}`,
      );
    }
    if (given.has(key as Parameter)) {
      return fail(
        key,
        `Query parameter ${quote(key)} is given more than once; give it once (lists are comma-separated)`,
      );
    }
    given.set(key as Parameter, value);
  }
  const states = listOf('state', given.get('state'), STATES);
  if (isQueryError(states)) return states;
  const fields = listOf('fields', given.get('fields'), WIRE_FIELDS);
  if (isQueryError(fields)) return fields;
  const limit = limitOf(given.get('limit'));
  if (isQueryError(limit)) return limit;
  const after = given.get('after');
  if (after === '')
    return fail(
      'after',
      'Query parameter "after" must name a provider (the last name of the previous page), got ""',
    );
  const selector = selectorParam(given.get('selector') ?? '');
  if (isQueryError(selector)) return selector;
  const wantedFields = fields && (fields.includes('name') ? fields : ['name', ...fields]);
  const parts: string[] = [];
  // The canonical text: `a=1,b=2` and `b=2, a==1` share one cached variant.
  if (selector) parts.push(`selector=${selector.toString()}`);
  if (states) parts.push(`state=${states.join(',')}`);
  if (wantedFields) parts.push(`fields=${wantedFields.join(',')}`);
  if (limit !== undefined) parts.push(`limit=${limit}`);
  // JSON: a name may hold "&" or "=".
  if (after !== undefined) parts.push(`after=${JSON.stringify(after)}`);
  return { states, fields: wantedFields, limit, after, selector, key: parts.join('&') };
}

/** The `fields` parameter: wire fields in wire order, `name` first; or why it is refused. @internal */
export function fieldsParameter(value: string): string[] | QueryError {
  const fields = listOf('fields', value, WIRE_FIELDS) as string[] | QueryError;
  if (isQueryError(fields)) return fields;
  return fields.includes('name') ? fields : ['name', ...fields];
}

/** A comma-separated subset of `allowed`, returned in `allowed` order without repeats. */
function listOf<T extends string>(
  parameter: Parameter,
  value: string | undefined,
  allowed: readonly T[],
): T[] | undefined | QueryError {
  if (value === undefined) return undefined;
  const items = value.split(',');
  // More entries than there are values means repeats or junk: refused before any set is built.
  if (items.length > allowed.length) {
    return fail(
      parameter,
      `Query parameter ${quote(parameter)} lists ${items.length} entries; at most ${allowed.length}: ${allowed.join(', ')}`,
    );
  }
  const wanted = new Set<string>();
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      return fail(
        parameter,
        `Query parameter ${quote(parameter)} has ${quote(item)}, which is not one of ${allowed.join(', ')}`,
      );
    }
    wanted.add(item);
  }
  return allowed.filter((entry) => wanted.has(entry));
}

function limitOf(value: string | undefined): number | undefined | QueryError {
  if (value === undefined) return undefined;
  const limit = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    return fail(
      'limit',
      `Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT}, got ${quote(value)}`,
    );
  }
  return limit;
}

function fail(parameter: string, error: string): QueryError {
  return { error, parameter: parameter.slice(0, MAX_QUOTED) };
}

/** `value` as a JSON string, cut to {@link MAX_QUOTED} characters (a query may be 64 KiB long). @internal */
export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value);
}
