/** A request target split into decoded path segments and query parameters. @internal */
export interface RequestTarget {
  /** Decoded segments after the base path; `[]` for the base path itself. */
  readonly segments: readonly string[];
  /** Decoded query parameters, in order; repeated keys repeat. */
  readonly query: readonly (readonly [string, string])[];
}

/** Why a target was refused: a status code and a message safe to show. @internal */
export interface TargetError {
  readonly status: 400 | 404;
  readonly message: string;
}

/**
 * Splits a raw request target (origin or absolute form) under `basePath`.
 * Segments are split before decoding, so a name holding "/" is sent as `%2F`.
 * @internal
 */
export function parseTarget(raw: string, basePath: string): RequestTarget | TargetError | undefined {
  let target = raw;
  if (!target.startsWith('/')) {
    // Absolute form ("http://host/path"), which proxies may send.
    if (!/^https?:\/\//i.test(target)) return { status: 400, message: 'Malformed request target' };
    try {
      const url = new URL(target);
      target = url.pathname + url.search;
    } catch {
      return { status: 400, message: 'Malformed request target' };
    }
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const search = mark === -1 ? '' : target.slice(mark + 1);

  if (path !== basePath && !path.startsWith(`${basePath}/`)) return undefined;
  const rest = path.slice(basePath.length);
  const rawSegments = rest.split('/').slice(1);
  // A trailing "/" names the same resource (the page is served at `<base>/` too).
  if (rest.endsWith('/')) rawSegments.pop();
  const segments: string[] = [];
  const query: (readonly [string, string])[] = [];
  try {
    for (const segment of rawSegments) segments.push(decodeURIComponent(segment));
    if (search !== '') {
      for (const pair of search.split('&')) {
        if (pair === '') continue;
        const eq = pair.indexOf('=');
        const key = eq === -1 ? pair : pair.slice(0, eq);
        const value = eq === -1 ? '' : pair.slice(eq + 1);
        query.push([decodeQuery(key), decodeQuery(value)]);
      }
    }
  } catch {
    return { status: 400, message: 'Malformed percent-encoding in the request target' };
  }
  return { segments, query };
}

function decodeQuery(text: string): string {
  return decodeURIComponent(text.replaceAll('+', ' '));
}

/** Whether `value` is a {@link TargetError}. @internal */
export function isTargetError(value: RequestTarget | TargetError): value is TargetError {
  return 'status' in value;
}
