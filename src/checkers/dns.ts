import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { Checker, CheckerOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { optionRangeError, optionTypeError, optionsObject, stringOption } from '../validate.js';
import { timeoutSignal } from '../async.js';
import { NEVER, abortError } from './internal/abort.js';
import {
  describeDnsError,
  dnsErrorCode,
  EXPECTED_SHAPE,
  normalizeExpected,
  RECORD_TYPES,
  resolveRecords,
  type Answers,
  type RecordType,
} from './internal/dns-records.js';
import { checkerClockOption, slowThresholdOption, timerClock } from './internal/options.js';
import { Outcome } from './internal/outcome.js';

export type { RecordType as DnsRecordType } from './internal/dns-records.js';

const CHECKER = 'dnsChecker';
const SITE = { scope: CHECKER } as const;
/** How long the resolver waits for the first attempt to one server, in ms (c-ares doubles it for the retry: 1 s + 2 s). */
export const DNS_ATTEMPT_TIMEOUT = 1_000;
/** Attempts to a single server before the resolver gives up with a timeout; several servers get one each. */
export const DNS_TRIES = 2;
/**
 * The longest a check waits for an answer, in ms, however many servers it
 * asks: under the cache's default 5 s check timeout, so the user reads "no
 * answer in time" rather than a generic timeout.
 */
export const DNS_TOTAL_TIMEOUT = 4_000;
/**
 * What the waits of several servers may add up to, in ms, counting each wait
 * twice: Node notices a resolver timeout on a timer whose period is the wait
 * (at most 1 s), so a wait can end up to one period late. Under
 * {@link DNS_TOTAL_TIMEOUT}, so every server is asked before the total runs out.
 */
const DNS_WAITS = 3_500;
const MAX_SERVERS = 8;
const MAX_EXPECTED = 64;
const MAX_VALUE_CHARS = 1024;
/** Answers kept in `details`, and shown in the message. */
const MAX_DETAIL_ANSWERS = 32;
const MAX_SHOWN_ANSWERS = 5;
const MAX_SHOWN_CHARS = 100;

/**
 * How the resolver spreads its waits over `servers` servers: one server gets
 * 1 s + 2 s; several get one try each, waiting 1750 ms / servers (875 ms for
 * 2, 583 ms for 3, 218 ms for 8), at most 3.5 s in all even when late.
 */
function attemptPlan(servers: number): { readonly tries: number; readonly timeout: number } {
  if (servers <= 1) return { tries: DNS_TRIES, timeout: DNS_ATTEMPT_TIMEOUT };
  // c-ares asks each server in turn and doubles the wait at each round: one round keeps every server asked.
  return { tries: 1, timeout: Math.min(DNS_ATTEMPT_TIMEOUT, Math.floor(DNS_WAITS / (2 * servers))) };
}

/** How many servers the system resolver would ask (those of /etc/resolv.conf). */
function systemServerCount(): number {
  return Math.max(1, new Resolver().getServers().length);
}

/** Options of {@link dnsChecker}. */
export interface DnsCheckerOptions extends CheckerOptions {
  /** The name to resolve, such as `api.internal` or `_sip._tcp.example.com`. Required. */
  name: string;
  /** The record type. Default `'A'`. */
  type?: RecordType | undefined;
  /**
   * DNS servers to ask, as IP addresses with an optional port (`10.0.0.53`,
   * `10.0.0.53:5353`, `[fd00::53]:53`); at most 8. Default: the system's resolvers.
   */
  servers?: readonly string[] | undefined;
  /**
   * Values that must all be among the answers: IPv4 addresses for `A`, IPv6
   * for `AAAA`, host names for `CNAME`, `host:port` for `SRV`, the joined
   * text for `TXT`. At most 64. Default: any answer will do.
   */
  expect?: string | readonly string[] | undefined;
}

/** A checker that resolves a DNS name. */
export type DnsChecker = Checker;

function nameOption(value: unknown): string {
  if (value === undefined) throw optionTypeError('name', 'given (a DNS name)', value, SITE);
  const name = stringOption('name', value, '', SITE);
  const labels = name.replace(/\.$/, '').split('.');
  if (
    name.length > 254 ||
    !labels.every((label) => /^[A-Za-z0-9_*](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))
  ) {
    throw optionTypeError(
      'name',
      'a DNS name (labels of letters, digits, - and _, up to 63 each)',
      value,
      SITE,
    );
  }
  return name;
}

function typeOption(value: unknown): RecordType {
  if (value === undefined) return 'A';
  if (typeof value === 'string' && (RECORD_TYPES as readonly string[]).includes(value.toUpperCase()))
    return value.toUpperCase() as RecordType;
  throw optionTypeError('type', `one of ${RECORD_TYPES.join(', ')}`, value, SITE);
}

function serverOption(value: unknown, index: number): string {
  const option = `servers[${index}]`;
  if (typeof value !== 'string') throw optionTypeError(option, 'an IP address', value, SITE);
  if (net.isIP(value) !== 0) return value;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || net.isIP(host) === 0 || port < 1 || port > 65_535) {
    // The resolver asks servers by address: a host name would need a resolver of its own.
    throw optionTypeError(
      option,
      'an IP address with an optional port (10.0.0.53, 10.0.0.53:5353, [::1]:53)',
      value,
      SITE,
    );
  }
  return value;
}

function serversOption(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw optionTypeError('servers', 'an array of IP addresses', value, SITE);
  if (value.length === 0 || value.length > MAX_SERVERS)
    throw optionRangeError('servers', `from 1 to ${MAX_SERVERS} addresses`, value, SITE);
  return Object.freeze(value.map((server: unknown, index) => serverOption(server, index)));
}

function expectOption(value: unknown, type: RecordType): readonly string[] {
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length > MAX_EXPECTED)
    throw optionRangeError('expect', `at most ${MAX_EXPECTED} values`, value, SITE);
  return list.map((item, index) => {
    const option = Array.isArray(value) ? `expect[${index}]` : 'expect';
    if (typeof item !== 'string' || item === '' || item.length > MAX_VALUE_CHARS)
      throw optionTypeError(
        option,
        `a non-empty string of at most ${MAX_VALUE_CHARS} characters`,
        item,
        SITE,
      );
    const normalized = normalizeExpected(type, item);
    if (normalized === undefined)
      throw optionTypeError(option, `one of the ${type} answers' ${EXPECTED_SHAPE[type]}`, item, SITE);
    return normalized;
  });
}

/** Answers for a message: at most five, each cut to 100 characters, TXT quoted. */
function showAnswers(values: readonly string[], type: RecordType): string {
  const shown = values.slice(0, MAX_SHOWN_ANSWERS).map((value) => {
    const text = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS - 1)}…` : value;
    return type === 'TXT' ? JSON.stringify(text) : text;
  });
  const more = values.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * Resolves `name` as an `A`, `AAAA`, `CNAME`, `SRV` or `TXT` record with a
 * `node:dns` Resolver (the system's servers, or `servers`): healthy when it
 * resolves (and every `expect` value is among the answers), unhealthy naming
 * the reason (`no such name (NXDOMAIN)`, `SERVFAIL`, `REFUSED`, a timeout,
 * a missing expected value). The answers are in `details.answers`. An
 * aborted signal cancels the query.
 *
 * Time is bounded however many servers there are: a single server gets two
 * tries (waiting 1 s, then 2 s); several servers get one try each, waiting
 * 1750 ms / servers (875 ms for 2, 583 ms for 3, 218 ms for 8: a server that
 * answers later is not heard), so that all are asked within 3.5 s; and the
 * check ends after {@link DNS_TOTAL_TIMEOUT} (4 s, on the checker's clock) at
 * the latest, with `no answer in time`.
 *
 * ```ts
 * registry.register('db-dns', dnsChecker({ name: 'db.internal', expect: '10.0.0.12' }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option.
 */
export function dnsChecker(options: DnsCheckerOptions): DnsChecker {
  optionsObject(options, { ...SITE, required: true });
  const name = nameOption(options.name);
  const type = typeOption(options.type);
  const servers = serversOption(options.servers);
  const expected = expectOption(options.expect, type);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const target = `${name} ${type}${servers ? ` via ${servers.join(', ')}` : ''}`;

  function judge(answers: Answers, outcome: Outcome): HealthReport {
    const details: Record<string, unknown> = { type, answers: answers.values.slice(0, MAX_DETAIL_ANSWERS) };
    if (answers.srv) details.srv = answers.srv.slice(0, MAX_DETAIL_ANSWERS);
    const resolved = `${target} resolved to ${showAnswers(answers.values, type)}`;
    const missing = expected.filter((value) => !answers.values.includes(value));
    if (missing.length > 0) {
      const list = showAnswers(missing, type);
      return outcome.unhealthy(`${resolved}, missing the expected ${list}`, details);
    }
    return outcome.healthy(resolved, details);
  }

  async function check(signal: AbortSignal): Promise<HealthReport> {
    if (signal.aborted) throw abortError(signal, target);
    const outcome = new Outcome(slowThreshold, clock);
    const count = servers?.length ?? systemServerCount();
    const plan = attemptPlan(count);
    // A resolver per check: cancel() stops every query of its resolver, so checks must not share one.
    const resolver = new Resolver(plan);
    if (servers) resolver.setServers(servers);
    // The total, on the injected clock; awaited by the check, so it keeps the process alive.
    const total = timeoutSignal(timerClock(clock), DNS_TOTAL_TIMEOUT, [signal], { keepAlive: true });
    const onAbort = (): void => resolver.cancel();
    total.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return judge(await resolveRecords(resolver, type, name), outcome);
    } catch (error) {
      if (signal.aborted) throw abortError(signal, target);
      if (total.timedOut || dnsErrorCode(error) === 'ETIMEOUT') {
        // The same words whether the resolver or the total ran out first: no server answered in time.
        const tries = count === 1 ? `timeout after ${plan.tries} tries` : `1 try each of ${count} servers`;
        return outcome.unhealthy(`${target}: no answer in time (${tries})`, { type, code: 'ETIMEOUT' });
      }
      const reason = describeDnsError(error, type, plan.tries);
      return outcome.unhealthy(`${target}: ${reason}`, { type, code: dnsErrorCode(error) ?? 'UNKNOWN' });
    } finally {
      total.signal.removeEventListener('abort', onAbort);
      total.dispose();
    }
  }

  return {
    target,
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      return check(signal);
    },
  };
}
