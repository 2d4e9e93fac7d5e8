/**
 * The `notifiers:` and `alerts:` keys of the config file (issue 12), as a
 * zod fragment the file's schema includes. Every check that can fail is
 * here, so a bad entry is a config error naming the field and its line
 * before anything starts. Secret values (webhook and Slack URLs, signing
 * secrets, routing keys, SMTP URLs with their passwords) are never quoted:
 * their checks say what was expected, not what was found.
 */
import { z } from 'zod';
import type { AlertRuleConfig, NotifierConfig } from '../alerts/index.js';
import { parseSelector } from '../selector.js';
import { durationSchema } from './duration-schema.js';
import { quoteString } from './quote.js';

/** The most notifiers and rules a file may declare (the library's bounds). */
export const MAX_CONFIG_NOTIFIERS = 50;
export const MAX_CONFIG_ALERTS = 100;

const NOTIFIER_TYPES = ['webhook', 'slack', 'pagerduty', 'email'] as const;

const nonEmpty = z
  .string({ error: 'expected a non-empty string' })
  .min(1, { error: 'expected a non-empty string' });

const duration = durationSchema();

/**
 * A secret value checked by `valid`; a failure says `expected …` and never
 * what was found (the config-issues formatter would quote it otherwise).
 */
function secret(expected: string, valid: (value: string) => boolean) {
  return z.unknown().transform((value, context): string => {
    if (typeof value === 'string' && valid(value)) return value;
    const message = value === undefined ? `missing; expected ${expected}` : `expected ${expected}`;
    context.addIssue({ code: 'custom', message, input: undefined });
    return z.NEVER;
  });
}

function urlWith(protocols: readonly string[], value: string): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

const httpUrl = secret('an http:// or https:// URL', (v) => urlWith(['http:', 'https:'], v));
const signingSecret = secret(
  'a signing secret: whsec_ followed by base64 of at least 16 bytes',
  (v) =>
    v.startsWith('whsec_') &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(v.slice(6)) &&
    Buffer.from(v.slice(6), 'base64').length >= 16,
);
const routingKey = secret('the integration routing key (a non-empty string)', (v) => v.trim() !== '');
const smtpUrl = secret('an smtp:// or smtps:// URL such as smtp://user:pass@host:587', (v) =>
  urlWith(['smtp:', 'smtps:'], v),
);

const common = { name: nonEmpty };

const NOTIFIER_SCHEMAS = {
  webhook: z.strictObject({
    ...common,
    type: z.literal('webhook'),
    /** Where to POST the signed JSON. A secret. */
    url: httpUrl,
    /** The Standard Webhooks signing secret (`whsec_…`). */
    secret: signingSecret,
    /** The most providers listed in one body (the rest counted). Default 1000. */
    maxProviders: z.int({ error: 'expected a whole number from 1 to 100000' }).min(1).max(100_000).optional(),
  }),
  slack: z.strictObject({ ...common, type: z.literal('slack'), url: httpUrl }),
  pagerduty: z.strictObject({
    ...common,
    type: z.literal('pagerduty'),
    routingKey,
    /** Default: PagerDuty's Events API v2 endpoint. */
    url: httpUrl.optional(),
    source: nonEmpty.optional(),
    severity: z
      .enum(['critical', 'error', 'warning', 'info'], { error: 'expected critical, error, warning or info' })
      .optional(),
  }),
  email: z.strictObject({
    ...common,
    type: z.literal('email'),
    smtp: smtpUrl,
    from: nonEmpty,
    to: z
      .array(
        nonEmpty.refine((v) => v.includes('@'), { error: 'expected an email address' }),
        {
          error: 'expected a list of addresses',
        },
      )
      .min(1, { error: 'expected at least one address' })
      .max(100, { error: 'expected at most 100 addresses' }),
    /** Connection, greeting and socket timeout. Default 10s. */
    timeout: duration.optional(),
  }),
} as const;

/** One `notifiers:` entry, checked by its `type` (no discriminated union: its error would list provider types). */
const notifier = z.unknown().transform((value, context) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    context.addIssue({ code: 'custom', message: 'expected a mapping with name and type', input: undefined });
    return z.NEVER;
  }
  const type = (value as { type?: unknown }).type;
  const schema = NOTIFIER_TYPES.includes(type as never)
    ? NOTIFIER_SCHEMAS[type as keyof typeof NOTIFIER_SCHEMAS]
    : undefined;
  if (schema === undefined) {
    const got =
      typeof type === 'string'
        ? `, got ${quoteString(type)}`
        : type === undefined
          ? ''
          : ', got a non-string';
    const message = `${type === undefined ? 'missing; ' : ''}expected one of ${NOTIFIER_TYPES.join(', ')}${got}`;
    context.addIssue({ code: 'custom', path: ['type'], message, input: undefined });
    return z.NEVER;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) context.addIssue({ ...issue, input: undefined } as never);
  return z.NEVER;
});

const selector = z
  .string({ error: 'expected a label selector such as env=prod' })
  .transform((text, context) => {
    try {
      parseSelector(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message, input: text });
      return z.NEVER;
    }
    return text;
  });

const alertRule = z.strictObject({
  name: nonEmpty,
  /** Label selector (`env=prod,team!=db`); default every provider. */
  selector: selector.optional(),
  /** Default [unhealthy, stale]. */
  states: z
    .array(z.enum(['degraded', 'unhealthy', 'stale'], { error: 'expected degraded, unhealthy or stale' }), {
      error: 'expected a list of states',
    })
    .min(1, { error: 'expected at least one state' })
    .optional(),
  for: duration.optional(),
  groupWait: duration.optional(),
  repeatInterval: duration
    .refine((ms) => ms >= 1000, { error: 'expected a duration of at least 1s' })
    .optional(),
  notify: z
    .array(nonEmpty, { error: 'expected a list of notifier names' })
    .min(1, { error: 'expected at least one notifier name' }),
});

/** `notifiers:` — at most {@link MAX_CONFIG_NOTIFIERS}. */
export const notifiersSchema = z
  .array(notifier, { error: 'expected a list of notifiers' })
  .max(MAX_CONFIG_NOTIFIERS, { error: `expected at most ${MAX_CONFIG_NOTIFIERS} notifiers` });

/** `alerts:` — at most {@link MAX_CONFIG_ALERTS}. */
export const alertsSchema = z
  .array(alertRule, { error: 'expected a list of alert rules' })
  .max(MAX_CONFIG_ALERTS, { error: `expected at most ${MAX_CONFIG_ALERTS} rules` });

/** Known keys of a notifier entry of `type`, for "did you mean" hints. */
export function notifierKeys(type: unknown): readonly string[] {
  const schema = NOTIFIER_SCHEMAS[type as keyof typeof NOTIFIER_SCHEMAS] as
    (typeof NOTIFIER_SCHEMAS)[keyof typeof NOTIFIER_SCHEMAS] | undefined;
  return schema === undefined ? ['name', 'type'] : Object.keys(schema.shape);
}

/** Known keys of an alert rule. */
export const ALERT_RULE_KEYS: readonly string[] = Object.keys(alertRule.shape);

type Issue = { path: (string | number)[]; message: string };

/**
 * What the schema cannot see entry by entry: duplicate names, and names in
 * `notify` that no notifier has (with the names that exist).
 */
export function alertsConfigIssues(config: {
  readonly notifiers?: readonly { readonly name: string }[] | undefined;
  readonly alerts?: readonly { readonly name: string; readonly notify: readonly string[] }[] | undefined;
}): Issue[] {
  const issues: Issue[] = [];
  const names = new Map<string, number>();
  (config.notifiers ?? []).forEach(({ name }, index) => {
    const first = names.get(name);
    if (first === undefined) names.set(name, index);
    else
      issues.push({
        path: ['notifiers', index, 'name'],
        message: `duplicate notifier name ${quoteString(name)} (also used by notifiers[${first}])`,
      });
  });
  const known = [...names.keys()].sort();
  const rules = new Map<string, number>();
  (config.alerts ?? []).forEach((rule, index) => {
    const first = rules.get(rule.name);
    if (first === undefined) rules.set(rule.name, index);
    else
      issues.push({
        path: ['alerts', index, 'name'],
        message: `duplicate rule name ${quoteString(rule.name)} (also used by alerts[${first}])`,
      });
    rule.notify.forEach((name, i) => {
      if (names.has(name)) return;
      const expected =
        known.length === 0 ? 'no notifiers are configured' : `expected one of ${known.join(', ')}`;
      issues.push({
        path: ['alerts', index, 'notify', i],
        message: `unknown notifier ${quoteString(name)}; ${expected}`,
      });
    });
  });
  return issues;
}

/** The validated keys as the library's `Alerting` options; `undefined` when no rule is configured. */
export function alertingConfig(config: {
  readonly notifiers?: readonly NotifierConfig[] | undefined;
  readonly alerts?: readonly AlertRuleConfig[] | undefined;
}): { notifiers: readonly NotifierConfig[]; alerts: readonly AlertRuleConfig[] } | undefined {
  const alerts = config.alerts ?? [];
  if (alerts.length === 0) return undefined;
  return { notifiers: config.notifiers ?? [], alerts };
}
