import type { Checker, CheckerOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import {
  assertOptionsObject,
  describeValue,
  clockOption,
  slowThresholdOption,
  stringOption,
} from './internal/options.js';
import { NEVER } from './internal/abort.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, request, type Answer, type LoadedTls } from './internal/request.js';
import { safeUrl } from './internal/safe-url.js';
import { loadTls, tlsOption, type TlsOptions } from './internal/tls.js';

export type { TlsOptions } from './internal/tls.js';

const CHECKER = 'httpChecker';
const DEFAULT_REDIRECTS = 5;
const MAX_BODY = 1024 * 1024;

/**
 * The status codes that count as healthy: one code (`204`), an inclusive
 * range (`[200, 399]`) or a class (`'2xx'`).
 */
export type ExpectedStatus =
  number | readonly [min: number, max: number] | '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Options of {@link httpChecker}. */
export interface HttpCheckerOptions extends CheckerOptions {
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

function urlOption(value: unknown): URL {
  if (value === undefined) throw new TypeError(`${CHECKER}: url is required`);
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new TypeError(`${CHECKER}: url must be a string or URL, got ${describeValue(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${CHECKER}: url is not a valid absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${CHECKER}: url must use http: or https:, got ${url.protocol}`);
  }
  return url;
}

function statusRangeOption(value: unknown): readonly [number, number] {
  if (value === undefined) return [200, 299];
  const isCode = (code: unknown): code is number =>
    typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599;
  if (isCode(value)) return [value, value];
  if (typeof value === 'string' && /^[1-5]xx$/.test(value)) {
    const base = Number(value[0]) * 100;
    return [base, base + 99];
  }
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    isCode(value[0]) &&
    isCode(value[1]) &&
    value[0] <= value[1]
  ) {
    return [value[0], value[1]];
  }
  throw new TypeError(
    `${CHECKER}: expectedStatus must be a status code (100-599), a range [min, max] or a class like '2xx', got ${describeValue(value)}`,
  );
}

function headersOption(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${CHECKER}: headers must be an object of strings, got ${describeValue(value)}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new TypeError(`${CHECKER}: headers has an invalid header name ${describeValue(name)}`);
    }
    // The value is a secret: name the header, never the value.
    if (typeof headerValue !== 'string' || /[\r\n\0]/.test(headerValue)) {
      throw new TypeError(`${CHECKER}: headers.${name} must be a string without line breaks`);
    }
    headers[name] = headerValue;
  }
  return headers;
}

function redirectsOption(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return DEFAULT_REDIRECTS;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100) return value;
  throw new TypeError(
    `${CHECKER}: followRedirects must be a boolean or an integer from 0 to 100, got ${describeValue(value)}`,
  );
}

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
  assertOptionsObject(CHECKER, options, true);
  const url = urlOption(options.url);
  const method = (stringOption(CHECKER, 'method', options.method) ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method))
    throw new TypeError(`${CHECKER}: method must be an HTTP method, got ${describeValue(method)}`);
  const expected = statusRangeOption(options.expectedStatus);
  const bodyMatch = options.bodyMatch;
  if (bodyMatch !== undefined && typeof bodyMatch !== 'string' && !(bodyMatch instanceof RegExp)) {
    throw new TypeError(`${CHECKER}: bodyMatch must be a string or RegExp, got ${describeValue(bodyMatch)}`);
  }
  const baseHeaders = headersOption(options.headers);
  const tlsSource = tlsOption(CHECKER, 'tls', options.tls);
  const maxRedirects = redirectsOption(options.followRedirects);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = clockOption(CHECKER, options.clock);

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
      throw new TypeError(`${CHECKER}: url has malformed percent-encoding in its user name or password`);
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
      const location = answer.headers.location;
      if (answer.status >= 300 && answer.status < 400 && location !== undefined && maxRedirects > 0) {
        if (hop >= maxRedirects) {
          return outcome.unhealthy(`${method} ${target}: more than ${maxRedirects} redirects`);
        }
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          return outcome.unhealthy(`${currentMethod} ${where}: redirected to an invalid URL`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          return outcome.unhealthy(`${method} ${target}: redirected to an unsupported ${next.protocol} URL`);
        }
        // Secrets are meant for the origin they were configured for: headers, the client
        // certificate and a server name override stay behind; the trusted CAs go along.
        if (next.origin !== url.origin) {
          headers = undefined;
          if (tls) tls = { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized };
        }
        if (
          answer.status === 303 ||
          ((answer.status === 301 || answer.status === 302) && currentMethod === 'POST')
        ) {
          currentMethod = 'GET';
        }
        current = next;
        continue;
      }
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
