import type { CertExpiryOptions, Checker, CheckerOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { optionTypeError, optionsObject, stringOption } from '../validate.js';
import { checkerClockOption, optionFailure, slowThresholdOption } from './internal/options.js';
import { headersOption, redirectsOption, statusRangeOption, urlOption } from './internal/http-options.js';
import { NEVER } from './internal/abort.js';
import { applyExpiries, certExpiryWarningOption, earlier, pemNotAfter } from './internal/cert-expiry.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';
import { safeUrl } from './internal/safe-url.js';
import { loadTls, tlsOption, type TlsOptions } from './internal/tls.js';

export type { TlsOptions } from './internal/tls.js';

const CHECKER = 'httpChecker';
const MAX_BODY = 1024 * 1024;

/**
 * The status codes that count as healthy: one code (`204`), an inclusive
 * range (`[200, 399]`) or a class (`'2xx'`).
 */
export type ExpectedStatus =
  number | readonly [min: number, max: number] | '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Options of {@link httpChecker}. */
export interface HttpCheckerOptions extends CheckerOptions, CertExpiryOptions {
  /** `http:` or `https:` URL. Userinfo (`https://user:pass@host`) is sent as Basic auth and never shown. Required. */
  url: string | URL;
  /** HTTP method. Default `GET`. */
  method?: string | undefined;
  /** Status codes that count as healthy. Default `'2xx'`. */
  expectedStatus?: ExpectedStatus | undefined;
  /** The body must contain this string, or match this RegExp (only the first MiB is read). Default: not checked. */
  bodyMatch?: string | RegExp | undefined;
  /** Request headers. Their values are treated as secrets: never shown in a message or error. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** TLS settings for `https:` URLs. */
  tls?: TlsOptions | undefined;
  /**
   * Follow redirects: `false` (the default) judges the 3xx answer itself;
   * `true` follows up to 5; a number follows up to that many. Headers and
   * credentials (and the TLS client certificate and server name) are dropped
   * when a redirect leaves the URL's origin.
   */
  followRedirects?: boolean | number | undefined;
}

/** A checker that requests a URL and judges the answer. */
export type HttpChecker = Checker;

function describeStatus(answer: Answer): string {
  return `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
}

function describeRange([min, max]: readonly [number, number]): string {
  if (min === max) return String(min);
  if (min % 100 === 0 && max === min + 99) return `${min / 100}xx`;
  return `${min}-${max}`;
}

function describePattern(pattern: string | RegExp): string {
  const text = typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** The URL a `Location` leads to, or `undefined` when it does not parse. */
function redirectTo(location: string, current: URL): URL | undefined {
  try {
    return new URL(location, current);
  } catch {
    return undefined;
  }
}

/** The method after a redirect: 303, and 301/302 after a POST, turn into GET (as browsers do). */
function redirectMethod(status: number, method: string): string {
  return status === 303 || ((status === 301 || status === 302) && method === 'POST') ? 'GET' : method;
}

/**
 * Requests `url` and checks the status code (and optionally the body):
 * healthy when it is expected, unhealthy with the reason otherwise (refused,
 * DNS, TLS, 401/403 as an authentication problem, unexpected status, body
 * mismatch). Header values and URL credentials never appear in a message.
 *
 * ```ts
 * registry.register('api', httpChecker({ url: 'https://api.internal/healthz', expectedStatus: [200, 204] }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option.
 */
export function httpChecker(options: HttpCheckerOptions): HttpChecker {
  // Longer than ~60 lines as a whole: the factory validates its options once and returns a
  // checker closing over them; its inner functions are the units, each under ~60 lines.
  const scope = { scope: CHECKER };
  optionsObject(options, { ...scope, required: true });
  const url = urlOption(options.url);
  const method = stringOption('method', options.method, 'GET', scope).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw optionTypeError('method', 'an HTTP method', method, scope);
  const expected = statusRangeOption(options.expectedStatus);
  const bodyMatch = options.bodyMatch;
  if (bodyMatch !== undefined && typeof bodyMatch !== 'string' && !(bodyMatch instanceof RegExp))
    throw optionTypeError('bodyMatch', 'a string or RegExp', bodyMatch, scope);
  const baseHeaders = headersOption(options.headers);
  const tlsSource = tlsOption(CHECKER, 'tls', options.tls);
  const maxRedirects = redirectsOption(options.followRedirects);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const certExpiryWarning = certExpiryWarningOption(CHECKER, options.certExpiryWarning);

  // Userinfo travels as Basic auth (as browsers and fetch send it) and leaves the URL we show.
  if (
    url.username !== '' &&
    !Object.keys(baseHeaders).some((name) => name.toLowerCase() === 'authorization')
  ) {
    let user: string;
    let password: string;
    try {
      user = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    } catch {
      const text = 'url has malformed percent-encoding in its user name or password';
      throw optionFailure(CHECKER, 'url', text, undefined, { secret: true });
    }
    baseHeaders.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const target = safeUrl(url);

  async function check(signal: AbortSignal, outcome: Outcome): Promise<HealthReport> {
    let tls: LoadedTls | undefined;
    try {
      tls = tlsSource ? await loadTls(tlsSource, signal) : undefined;
    } catch (error) {
      if (error instanceof CheckFailure) return outcome.unhealthy(`${target}: ${error.message}`);
      throw error;
    }
    let current = url;
    let currentMethod = method;
    let serverNotAfter: Date | undefined;
    // The client certificate is presented to the configured origin only.
    const client = url.protocol === 'https:' ? pemNotAfter(tls?.cert) : undefined;
    const expire = (): void =>
      applyExpiries(outcome, { server: serverNotAfter, client }, certExpiryWarning, clock.now());
    let headers: Record<string, string> | undefined = baseHeaders;
    for (let hop = 0; ; hop += 1) {
      const where = safeUrl(current);
      let answer: Answer;
      try {
        answer = await request({
          url: current,
          method: currentMethod,
          headers,
          tls,
          // Without a body to match, the status line and headers say everything.
          maxBodyBytes: bodyMatch === undefined ? 0 : MAX_BODY,
          target: where,
          signal,
        });
      } catch (error) {
        if (error instanceof CheckFailure)
          return outcome.unhealthy(`${currentMethod} ${where}: ${error.message}`);
        throw error;
      }
      serverNotAfter = earlier(serverNotAfter, answer.serverCertificateNotAfter);
      const location = answer.headers.location;
      if (answer.status >= 300 && answer.status < 400 && location !== undefined && maxRedirects > 0) {
        expire();
        if (hop >= maxRedirects) {
          return outcome.unhealthy(`${method} ${target}: more than ${maxRedirects} redirects`);
        }
        const next = redirectTo(location, current);
        if (next === undefined)
          return outcome.unhealthy(`${currentMethod} ${where}: redirected to an invalid URL`);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          return outcome.unhealthy(`${method} ${target}: redirected to an unsupported ${next.protocol} URL`);
        }
        // Secrets are meant for the origin they were configured for: headers, the client
        // certificate and a server name override stay behind; the trusted CAs go along.
        if (next.origin !== url.origin) {
          headers = undefined;
          if (tls) tls = { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized };
        }
        currentMethod = redirectMethod(answer.status, currentMethod);
        current = next;
        continue;
      }
      expire();
      return judge(answer, where, location, outcome);
    }
  }

  function judge(
    answer: Answer,
    where: string,
    location: string | undefined,
    outcome: Outcome,
  ): HealthReport {
    const what = `${method} ${where} answered ${describeStatus(answer)}`;
    const details = { status: answer.status };
    if (answer.status < expected[0] || answer.status > expected[1]) {
      let reason = `expected ${describeRange(expected)}`;
      if (answer.status === 401) reason = `authentication failed, check the credentials (${reason})`;
      else if (answer.status === 403)
        reason = `not authorised, check the credentials' permissions (${reason})`;
      else if (answer.status >= 300 && answer.status < 400 && location !== undefined) {
        let to = 'elsewhere';
        try {
          to = safeUrl(new URL(location, where));
        } catch {
          // An unparsable Location is still a redirect; say so without quoting it.
        }
        reason = `a redirect to ${to}, not followed because followRedirects is off (${reason})`;
      }
      return outcome.unhealthy(`${what}: ${reason}`, details);
    }
    if (bodyMatch !== undefined) {
      if (bodyMatch instanceof RegExp) bodyMatch.lastIndex = 0;
      const matched =
        typeof bodyMatch === 'string' ? answer.body.includes(bodyMatch) : bodyMatch.test(answer.body);
      if (!matched)
        return outcome.unhealthy(`${what} but the body did not match ${describePattern(bodyMatch)}`, details);
    }
    return outcome.healthy(what, details);
  }

  return {
    target,
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      return check(signal, new Outcome(slowThreshold, clock));
    },
  };
}
