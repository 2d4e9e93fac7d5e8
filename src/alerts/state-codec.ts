import type { HealthState } from '../status.js';
import type { AlertedProvider, Notification } from './notification.js';
import {
  MAX_OUTBOX,
  MAX_SENT_RECORDS,
  type AlertEngineState,
  type Incident,
  type OutboxEntry,
  type RuleState,
} from './state.js';

/**
 * Reading alert state back from somewhere another process wrote it (Redis,
 * a file), where it may be damaged or hostile: every field is checked, so the
 * engine never meets a shape it does not expect. Bounds: {@link MAX_STATE_NAMES}
 * providers per rule and incident, {@link MAX_STATE_TEXT} characters per
 * string; the caller bounds the bytes read.
 */

/** The most providers one rule's pending set, or one incident, may list. */
export const MAX_STATE_NAMES = 200_000;
/** The longest string kept (a message, a name). */
export const MAX_STATE_TEXT = 65_536;

/** Alert state that cannot be used; `path` says where it went wrong. */
export class AlertStateError extends Error {
  readonly path: string;

  constructor(path: string, expected: string) {
    super(`alert state: ${path}: expected ${expected}`);
    this.name = 'AlertStateError';
    this.path = path;
  }
}

const STATES: ReadonlySet<string> = new Set(['unknown', 'healthy', 'degraded', 'unhealthy', 'stale']);

type Json = Record<string, unknown>;

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AlertStateError(path, 'an object');
  return value as Json;
}
function list(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max)
    throw new AlertStateError(path, `a list of at most ${max}`);
  return value;
}
function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length > MAX_STATE_TEXT)
    throw new AlertStateError(path, `a string of at most ${MAX_STATE_TEXT} characters`);
  return value;
}
function time(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AlertStateError(path, 'a time in ms');
  return value;
}
function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new AlertStateError(path, 'a whole number');
  return value;
}
function state(value: unknown, path: string): Exclude<HealthState, 'unknown'> {
  if (typeof value !== 'string' || !STATES.has(value) || value === 'unknown')
    throw new AlertStateError(path, 'a health state');
  return value as Exclude<HealthState, 'unknown'>;
}
function entries(value: unknown, path: string): [string, Json][] {
  const all = Object.entries(object(value, path));
  if (all.length > MAX_STATE_NAMES) throw new AlertStateError(path, `at most ${MAX_STATE_NAMES} providers`);
  return all.map(([name, item]) => [text(name, path), object(item, `${path}.${name}`)]);
}

function incident(value: unknown, path: string): Incident {
  const data = object(value, path);
  const phase = data['phase'];
  if (phase !== 'collecting' && phase !== 'firing')
    throw new AlertStateError(`${path}.phase`, 'collecting or firing');
  const members: Incident['members'] = {};
  let down = 0;
  for (const [name, member] of entries(data['members'], `${path}.members`)) {
    const at = `${path}.members.${name}`;
    if (typeof member['down'] !== 'boolean') throw new AlertStateError(`${at}.down`, 'true or false');
    if (member['down']) down += 1;
    members[name] = {
      since: time(member['since'], `${at}.since`),
      state: state(member['state'], `${at}.state`),
      message: text(member['message'], `${at}.message`),
      down: member['down'],
    };
  }
  const key =
    data['key'] === undefined || data['key'] === null ? undefined : text(data['key'], `${path}.key`);
  if (phase === 'firing' && key === undefined) throw new AlertStateError(`${path}.key`, 'the incident key');
  const fired = data['firedAt'];
  const resolving = data['resolvingAt'];
  return {
    phase,
    openedAt: time(data['openedAt'], `${path}.openedAt`),
    key,
    startedAt: time(data['startedAt'], `${path}.startedAt`),
    members,
    // Recounted: a stored count that disagrees with the members would never resolve.
    down,
    firedAt: fired === undefined || fired === null ? undefined : time(fired, `${path}.firedAt`),
    reminders: count(data['reminders'], `${path}.reminders`),
    ...(resolving === undefined || resolving === null
      ? {}
      : { resolvingAt: time(resolving, `${path}.resolvingAt`) }),
    sent: list(data['sent'], `${path}.sent`, MAX_SENT_RECORDS).map((item, i) => {
      const record = object(item, `${path}.sent[${i}]`);
      const type = record['type'];
      if (type !== 'firing' && type !== 'resolved')
        throw new AlertStateError(`${path}.sent[${i}].type`, 'firing or resolved');
      return {
        id: text(record['id'], `${path}.sent[${i}].id`),
        type,
        reminder: count(record['reminder'], `${path}.sent[${i}].reminder`),
        at: time(record['at'], `${path}.sent[${i}].at`),
      };
    }),
  };
}

function ruleState(value: unknown, path: string): RuleState {
  const data = object(value, path);
  const pending: RuleState['pending'] = {};
  for (const [name, item] of entries(data['pending'], `${path}.pending`)) {
    const at = `${path}.pending.${name}`;
    pending[name] = {
      since: time(item['since'], `${at}.since`),
      state: state(item['state'], `${at}.state`),
      message: text(item['message'], `${at}.message`),
    };
  }
  const incidents = list(data['incidents'], `${path}.incidents`, 10_000).map((item, i) =>
    incident(item, `${path}.incidents[${i}]`),
  );
  if (incidents.filter((item) => item.phase === 'collecting').length > 1)
    throw new AlertStateError(`${path}.incidents`, 'at most one collecting incident');
  return { pending, incidents };
}

function notification(value: unknown, path: string): Notification {
  const data = object(value, path);
  const type = data['type'];
  if (type !== 'firing' && type !== 'resolved')
    throw new AlertStateError(`${path}.type`, 'firing or resolved');
  const providers = list(data['providers'], `${path}.providers`, MAX_STATE_NAMES).map(
    (item, i): AlertedProvider => {
      const p = object(item, `${path}.providers[${i}]`);
      const labels: Record<string, string> = {};
      for (const [key, label] of Object.entries(object(p['labels'], `${path}.providers[${i}].labels`)))
        labels[key] = text(label, `${path}.providers[${i}].labels.${key}`);
      return {
        name: text(p['name'], `${path}.providers[${i}].name`),
        state: state(p['state'], `${path}.providers[${i}].state`),
        message: text(p['message'], `${path}.providers[${i}].message`),
        labels,
        since: text(p['since'], `${path}.providers[${i}].since`),
      };
    },
  );
  return {
    id: text(data['id'], `${path}.id`),
    incident: text(data['incident'], `${path}.incident`),
    type,
    rule: text(data['rule'], `${path}.rule`),
    reminder: count(data['reminder'], `${path}.reminder`),
    test: false,
    startedAt: text(data['startedAt'], `${path}.startedAt`),
    providers,
  };
}

function outboxEntry(value: unknown, path: string): OutboxEntry {
  const data = object(value, path);
  return {
    notification: notification(data['notification'], `${path}.notification`),
    notifiers: list(data['notifiers'], `${path}.notifiers`, 100).map((name, i) =>
      text(name, `${path}.notifiers[${i}]`),
    ),
    at: time(data['at'], `${path}.at`),
  };
}

/**
 * Checks parsed JSON and returns it as alert state (fresh objects: nothing
 * of the input is kept). @throws AlertStateError naming the bad field.
 */
export function parseAlertState(value: unknown): AlertEngineState {
  const data = object(value, 'state');
  if (data['version'] !== 1) throw new AlertStateError('state.version', '1');
  const rules: AlertEngineState['rules'] = {};
  for (const [name, item] of Object.entries(object(data['rules'], 'state.rules')).slice(0, 1000))
    rules[text(name, 'state.rules')] = ruleState(item, `state.rules.${name}`);
  const outbox = data['outbox'] === undefined ? [] : list(data['outbox'], 'state.outbox', MAX_OUTBOX);
  return { version: 1, rules, outbox: outbox.map((item, i) => outboxEntry(item, `state.outbox[${i}]`)) };
}
