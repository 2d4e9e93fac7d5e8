import type { HealthState } from '../status.js';
import type { Status } from '../status.js';
import { parseSelector } from '../selector.js';
import type { AlertLabels } from './notification.js';
import {
  durationOption,
  optionRangeError,
  optionTypeError,
  optionsObject,
  stringOption,
} from '../validate.js';

/** The states a rule may watch. */
export type AlertState = Extract<HealthState, 'degraded' | 'unhealthy' | 'stale'>;

/** Chooses the providers a rule watches; `status` is the provider's latest. */
export type ProviderPredicate = (name: string, status: Status) => boolean;

/** A rule as a user writes it (config file or code). */
export interface AlertRuleInit {
  /** Unique among rules; names the rule in every notification. */
  readonly name: string;
  /** Which providers the rule watches. Default: every provider. */
  readonly selector?: ProviderPredicate | undefined;
  /** The states that fire. Default `['unhealthy', 'stale']`; `degraded` may be listed. */
  readonly states?: readonly AlertState[] | undefined;
  /** How long (ms) a state must hold before it fires. Default 0. */
  readonly for?: number | undefined;
  /** How long (ms) to wait for more providers to fail before sending, so they go out in one message. Default 0. */
  readonly groupWait?: number | undefined;
  /** Reminder period (ms) while an incident fires. Default: no reminders. */
  readonly repeatInterval?: number | undefined;
  /** The names of the notifiers to tell. At least one. */
  readonly notify: readonly string[];
}

/** A validated rule, frozen, every default filled in. */
export interface AlertRule {
  readonly name: string;
  readonly selector: ProviderPredicate | undefined;
  readonly states: ReadonlySet<AlertState>;
  readonly for: number;
  readonly groupWait: number;
  /** `undefined`: no reminders. */
  readonly repeatInterval: number | undefined;
  readonly notify: readonly string[];
}

/** The states a rule watches unless told otherwise. */
export const DEFAULT_ALERT_STATES: readonly AlertState[] = Object.freeze(['unhealthy', 'stale']);
/** The most rules one engine takes (each costs work on every transition). */
export const MAX_ALERT_RULES = 100;
const STATES: readonly string[] = ['degraded', 'unhealthy', 'stale'];

/**
 * Validates rules against the notifier names that exist. Errors name the
 * field as `alerts[i].field` (`alerts[0].notify[1]`), so a config error
 * points at the line to fix.
 */
export function validateRules(input: unknown, notifiers: ReadonlySet<string>): readonly AlertRule[] {
  if (!Array.isArray(input)) throw optionTypeError('alerts', 'an array of rules', input);
  if (input.length > MAX_ALERT_RULES)
    throw optionRangeError('alerts', `at most ${MAX_ALERT_RULES} rules`, input.length);
  const names = new Set<string>();
  return Object.freeze(
    input.map((item: unknown, i) => {
      const rule = validateRule(item, notifiers, `alerts[${i}]`);
      if (names.has(rule.name)) throw optionRangeError(`alerts[${i}].name`, 'unique among rules', rule.name);
      names.add(rule.name);
      return rule;
    }),
  );
}

/** Validates one rule; `path` prefixes field names in errors. */
export function validateRule(input: unknown, notifiers: ReadonlySet<string>, path = 'rule'): AlertRule {
  const init = optionsObject(input as AlertRuleInit | undefined, { required: true, scope: path });
  const name = stringOption(`${path}.name`, init.name, undefined);
  if (name === undefined) throw optionTypeError(`${path}.name`, 'a non-empty string', init.name);
  const selector = init.selector;
  if (selector !== undefined && typeof selector !== 'function')
    throw optionTypeError(`${path}.selector`, 'a function (name, status) => boolean', selector);
  const rule: AlertRule = {
    name,
    selector,
    states: validateStates(init.states, `${path}.states`),
    for: durationOption(`${path}.for`, init.for, 0, { min: 0 }),
    groupWait: durationOption(`${path}.groupWait`, init.groupWait, 0, { min: 0 }),
    repeatInterval: durationOption(`${path}.repeatInterval`, init.repeatInterval, undefined, { min: 1000 }),
    notify: validateNotify(init.notify, notifiers, `${path}.notify`),
  };
  return Object.freeze(rule);
}

function validateStates(value: unknown, option: string): ReadonlySet<AlertState> {
  if (value === undefined) return new Set(DEFAULT_ALERT_STATES);
  if (!Array.isArray(value) || value.length === 0)
    throw optionTypeError(option, 'a non-empty array of states', value);
  value.forEach((state: unknown, i) => {
    if (typeof state !== 'string' || !STATES.includes(state))
      throw optionRangeError(`${option}[${i}]`, 'one of degraded, unhealthy, stale', state);
  });
  return new Set(value as AlertState[]);
}

function validateNotify(value: unknown, notifiers: ReadonlySet<string>, option: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw optionTypeError(option, 'a non-empty array of notifier names', value);
  const names = value.map((name: unknown, i) => {
    if (typeof name !== 'string' || !notifiers.has(name)) {
      const known = [...notifiers].sort().join(', ') || 'none configured';
      throw optionRangeError(`${option}[${i}]`, `the name of a notifier (${known})`, name);
    }
    return name;
  });
  return Object.freeze([...new Set(names)]);
}

const NO_LABELS: AlertLabels = Object.freeze({});

/** The labels a status carries: the default `labelsOf` of the engine and of `Alerting`. @internal */
export function statusLabels(_name: string, status: Status | undefined): AlertLabels {
  return status?.labels ?? NO_LABELS;
}

/**
 * Turns selector text into a predicate over the provider's labels (`alerts:`
 * as the config file writes it); errors name the rule's field. @internal
 */
export function compileSelectors(
  rules: unknown,
  labelsOf: (name: string, status: Status | undefined) => AlertLabels,
): unknown {
  if (!Array.isArray(rules)) return rules;
  return rules.map((rule: unknown, i) => {
    const text = (rule as { selector?: unknown } | null)?.selector;
    if (typeof text !== 'string') return rule;
    try {
      const selector = parseSelector(text);
      const matches: ProviderPredicate = (name, status) => selector.matches(labelsOf(name, status));
      return { ...(rule as object), selector: selector.empty ? undefined : matches };
    } catch (error) {
      throw optionRangeError(`alerts[${i}].selector`, `a label selector (${(error as Error).message})`, text);
    }
  });
}
