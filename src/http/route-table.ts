import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestTarget } from './request-target.js';

/**
 * Serves one matched request; `name` is the decoded `{name}` segment of
 * routes that have one (`""` otherwise). @internal
 */
export type Serve = (req: IncomingMessage, res: ServerResponse, name: string, target: RequestTarget) => void;

/** Methods that read: HEAD is answered wherever GET is. @internal */
export const READ = ['GET', 'HEAD'] as const;
/** The state-changing method (refresh), refused from other web origins. @internal */
export const WRITE = ['POST'] as const;
/** Event streams: GET only (a HEAD would open a stream that sends nothing). @internal */
export const STREAM = ['GET'] as const;

/** One row of the table. @internal */
export interface Route {
  /** Path segments after the base path; `NAME` matches any one segment (a provider or file name). */
  readonly path: readonly string[];
  readonly methods: readonly string[];
  readonly serve: Serve;
  /** The largest request body this route takes (bytes); default the handler's `maxBodySize`. */
  readonly maxBodySize?: number | undefined;
  /** Whether the `{name}` segment names something served here (an asset); otherwise the path is unknown. */
  readonly accepts?: ((name: string) => boolean) | undefined;
}

/** The placeholder of a name segment in {@link Route.path}. @internal */
export const NAME = '{name}';

/** A route and the name it matched. @internal */
export interface RouteMatch {
  readonly route: Route;
  readonly name: string;
}

/** The first route of `table` whose path matches `segments`, or `undefined` (an unknown path). @internal */
export function matchRoute(table: readonly Route[], segments: readonly string[]): RouteMatch | undefined {
  for (const route of table) {
    if (route.path.length !== segments.length) continue;
    let name = '';
    let matched = true;
    for (let i = 0; i < segments.length && matched; i++) {
      const part = route.path[i];
      const segment = segments[i] as string;
      if (part === NAME) name = segment;
      else matched = part === segment;
    }
    if (matched && (route.accepts === undefined || route.accepts(name))) return { route, name };
  }
  return undefined;
}
