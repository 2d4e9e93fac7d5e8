import { describeValue, optionTypeError } from '../../validate.js';
import { optionFailure } from './options.js';

/**
 * Validation of the HTTP checker's own options.
 * @internal
 */

const CHECKER = 'httpChecker';
const DEFAULT_REDIRECTS = 5;

/** The `url` option: an absolute `http:` or `https:` URL. */
export function urlOption(value: unknown): URL {
  if (value === undefined) throw optionFailure(CHECKER, 'url', 'url is required', value);
  if (typeof value !== 'string' && !(value instanceof URL))
    throw optionTypeError('url', 'a string or URL', value, { scope: CHECKER });
  // The URL may carry credentials: the error keeps no value.
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw optionFailure(CHECKER, 'url', 'url is not a valid absolute URL', value, { secret: true });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw optionFailure(CHECKER, 'url', `url must use http: or https:, got ${url.protocol}`, value, {
      secret: true,
    });
  }
  return url;
}

/** The `expectedStatus` option as an inclusive range; default 2xx. */
export function statusRangeOption(value: unknown): readonly [number, number] {
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
  throw optionTypeError(
    'expectedStatus',
    "a status code (100-599), a range [min, max] or a class like '2xx'",
    value,
    { scope: CHECKER },
  );
}

/** The `headers` option; values are secrets, never quoted. */
export function headersOption(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionTypeError('headers', 'an object of strings', value, { scope: CHECKER });
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      const text = `headers has an invalid header name ${describeValue(name)}`;
      throw optionFailure(CHECKER, 'headers', text, name);
    }
    // The value is a secret: name the header, never the value.
    if (typeof headerValue !== 'string' || /[\r\n\0]/.test(headerValue)) {
      const text = `headers.${name} must be a string without line breaks`;
      throw optionFailure(CHECKER, `headers.${name}`, text, headerValue, { secret: true });
    }
    headers[name] = headerValue;
  }
  return headers;
}

/** The `followRedirects` option as a number of hops. */
export function redirectsOption(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return DEFAULT_REDIRECTS;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100) return value;
  throw optionTypeError('followRedirects', 'a boolean or an integer from 0 to 100', value, {
    scope: CHECKER,
  });
}
