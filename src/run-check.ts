import { formatDuration } from './async.js';
import { CheckDeadlines, type RunningCheck } from './check-deadlines.js';
import type { Clock } from './clock.js';
import { describeFailure } from './messages.js';
import { isHealthChecker, type HealthChecker, type Provider } from './provider.js';
import { readReport } from './report.js';
import type { CheckState } from './status.js';

/** What one check found, before thresholds: the input of the status store. @internal */
export interface RawResult {
  readonly state: CheckState;
  /** Uncleaned: the store cleans (and caches) it. */
  readonly message: string;
  readonly latency: number;
  /** ms since the epoch; the checker's own time when it reported one (never ahead of completion). */
  readonly checkedAt: number;
  /** Whether `checkedAt` came from the checker's clock rather than ours. */
  readonly reportedTime: boolean;
  readonly details: object | undefined;
  /** Set when the failure is this service's (out of file descriptors), not the provider's. */
  readonly fault: string | undefined;
}

/** A call to `healthCheck` that has not settled yet. */
interface PendingCall {
  readonly provider: Provider;
  readonly since: number;
  abandoned: boolean;
}

/** How one check is run. */
export interface CheckOptions {
  /** The checks of the sweep still running (the sweep holds one listener for all of them). */
  readonly checks: Set<RunningCheck>;
  /** Somebody awaits this check (`checkNow`): its timeout keeps the process alive. */
  readonly keepAlive: boolean;
}

/**
 * Node's wording for this process running out of file descriptors (`connect
 * EMFILE 10.0.0.1:443`, `EMFILE: too many open files, open '…'`), and the
 * bundled checkers' `connection failed (EMFILE)` (a Node error code), for checkers
 * that turn errors into messages. A bare "EMFILE" in a remote's own text is not
 * matched: the provider being out of descriptors is its problem, not ours.
 */
const FD_EXHAUSTED =
  /\b(?:[a-z]+ (EMFILE|ENFILE)\b|(EMFILE|ENFILE): too many open files)|\((EMFILE|ENFILE)\)/;

function result(
  state: CheckState,
  message: string,
  latency: number,
  checkedAt: number,
  extra: Partial<Pick<RawResult, 'reportedTime' | 'details' | 'fault'>> = {},
): RawResult {
  return {
    state,
    message,
    latency,
    checkedAt,
    reportedTime: extra.reportedTime ?? false,
    details: extra.details,
    fault: extra.fault ?? (state === 'unhealthy' ? fdFaultIn(message) : undefined),
  };
}

function fdFaultIn(message: string): string | undefined {
  const match = FD_EXHAUSTED.exec(message);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

/** `EMFILE`/`ENFILE` from a thrown error, its `cause` chain or an `AggregateError`'s errors. */
function fdFault(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  try {
    const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
    if (code === 'EMFILE' || code === 'ENFILE') return code;
    const nested: unknown[] = Array.isArray(errors) ? (errors as unknown[]).slice(0, 8) : [];
    for (const inner of [cause, ...nested]) {
      const found = fdFault(inner, depth + 1);
      if (found) return found;
    }
  } catch {
    // An error whose getters throw carries no code worth finding.
  }
  return undefined;
}

/**
 * Runs one check: the timeout, aborting, hung calls (a provider is not called
 * again until its previous call settles) and turning whatever happened into a
 * {@link RawResult}. @internal
 */
export class CheckRunner {
  readonly #clock: Clock;
  readonly #checkTimeout: number;
  readonly #deadlines: CheckDeadlines;
  readonly #pending = new Map<string, PendingCall>();
  #abandoned = 0;
  #abandonedTotal = 0;

  constructor(clock: Clock, checkTimeout: number) {
    this.#clock = clock;
    this.#checkTimeout = checkTimeout;
    this.#deadlines = new CheckDeadlines(clock, checkTimeout);
  }

  /** Calls that timed out and have not settled. */
  get abandoned(): number {
    return this.#abandoned;
  }

  /** Calls given up on before they settled, ever. */
  get abandonedTotal(): number {
    return this.#abandonedTotal;
  }

  /** Checks `provider`; `undefined` when the sweep was stopped (nothing to record). Never rejects. */
  async check(name: string, provider: Provider, options: CheckOptions): Promise<RawResult | undefined> {
    const now = this.#clock.now();
    const previous = this.#pending.get(name);
    if (previous?.provider === provider) {
      const since = new Date(previous.since).toISOString();
      const message = `previous check still running since ${since} (${formatDuration(now - previous.since)}); not called again until it settles`;
      return result('unhealthy', message, 0, now);
    }
    let checker: HealthChecker | undefined;
    try {
      checker = isHealthChecker(provider) ? provider : undefined;
    } catch (error) {
      // A `healthCheck` getter (or a proxy) that throws is a broken checker, not a broken sweep.
      return result('unhealthy', describeFailure(error), 0, now);
    }
    if (checker === undefined) return result('healthy', 'provider does not implement HealthChecker', 0, now);
    return this.#call(name, provider, checker, options);
  }

  async #call(
    name: string,
    provider: Provider,
    checker: HealthChecker,
    options: CheckOptions,
  ): Promise<RawResult | undefined> {
    const clock = this.#clock;
    const timeout = this.#checkTimeout;
    const started = clock.now();
    const call: PendingCall = { provider, since: started, abandoned: false };
    const { settled, timedOut } = await this.#deadlines.race(
      (signal) => this.#start(name, call, checker, signal),
      options.checks,
      options.keepAlive,
    );
    const ended = clock.now();
    const latency = ended - started;
    if (settled.kind === 'aborted') {
      if (this.#pending.get(name) === call) {
        call.abandoned = true;
        this.#abandoned++;
        this.#abandonedTotal++;
      }
      // Stopped by run()'s signal: not the provider's fault, so nothing is recorded.
      return timedOut ? result('unhealthy', `timed out after ${timeout} ms`, latency, ended) : undefined;
    }
    if (settled.kind === 'error') {
      const fault = fdFault(settled.error);
      return result('unhealthy', describeFailure(settled.error), latency, ended, fault ? { fault } : {});
    }
    const report = readReport(settled.value);
    if (typeof report === 'string') return result('unhealthy', report, latency, ended);
    const message =
      report.message ??
      (report.state === 'unhealthy' ? 'checker reported unhealthy without a message' : report.state);
    // A checker's clock may run ahead of ours; a time in the future would block every later result.
    const checkedAt = Math.min(report.checkedAt ?? ended, ended);
    return result(report.state, message, report.latency ?? latency, checkedAt, {
      reportedTime: report.checkedAt !== undefined,
      details: report.details,
    });
  }

  /** Calls `healthCheck`, tracking the call until it settles (also after we stop waiting). */
  #start(name: string, call: PendingCall, checker: HealthChecker, signal: AbortSignal): Promise<unknown> {
    let promise: Promise<unknown>;
    try {
      promise = Promise.resolve(checker.healthCheck(signal));
    } catch (error) {
      // Whatever was thrown is kept as is; describeFailure() handles non-Errors.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      promise = Promise.reject(error);
    }
    this.#pending.set(name, call);
    const settled = (): void => {
      if (this.#pending.get(name) === call) this.#pending.delete(name);
      if (call.abandoned) {
        call.abandoned = false;
        this.#abandoned--;
      }
    };
    promise.then(settled, settled);
    return promise;
  }
}
