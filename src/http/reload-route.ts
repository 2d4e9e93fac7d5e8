import type { IncomingMessage, ServerResponse } from 'node:http';
import { optionTypeError } from '../validate.js';
import { drainBody } from './read-body.js';
import { RefreshAuth, sendDenial } from './refresh-auth.js';
import { sendError, sendFailure, sendJSON, sendTooLarge } from './responses.js';
import { WRITE, type Route } from './route-table.js';

/** What a reload changed: provider names in each group, sorted. */
export interface ReloadReport {
  /** Registered now. */
  readonly added: readonly string[];
  /** Unregistered (their statuses and history are gone). */
  readonly removed: readonly string[];
  /** Kept under the same name with new settings, labels or dependencies. */
  readonly changed: readonly string[];
  /** Kept as they were, with their statuses and history. */
  readonly unchanged: readonly string[];
  /** Removed names whose entry reappeared under another name (also in `removed` and `added`). */
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
  /** Settings that changed in the file but apply only after a restart (`pollInterval`, `server.port` …). */
  readonly notApplied: readonly string[];
}

/** How a reload ended: applied, or refused with the config's errors (the running config stays). */
export type ReloadOutcome =
  | { readonly ok: true; readonly report: ReloadReport }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * The `reload` option of `createHealthHandler`: re-reads the configuration and
 * applies it. `POST /api/reload` calls it; `signal` aborts when the handler closes.
 */
export type Reload = (signal: AbortSignal) => Promise<ReloadOutcome>;

/** Validates the `reload` option. @internal */
export function reloadOption(value: unknown): Reload | undefined {
  if (value === undefined || typeof value === 'function') return value as Reload | undefined;
  throw optionTypeError('reload', 'a function (signal) => Promise<ReloadOutcome>', value);
}

/**
 * `POST /api/reload`: authorised like the refresh endpoints (the bearer
 * token, else loopback clients only); 200 with what changed, 400 with the
 * config's errors (one line each, file and line first), 503 while closing.
 * Concurrent requests are serialised by whoever supplies `reload`. @internal
 */
export function reloadRoute(
  reload: Reload,
  token: string | undefined,
  maxBodySize: number,
  closing: AbortSignal,
): Route {
  const auth = new RefreshAuth(token);
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const denial = auth.check(req, 'Reload');
    if (denial) return sendDenial(req, res, denial);
    const body = await drainBody(req, maxBodySize);
    if (body === 'too-large') {
      return sendTooLarge(req, res, maxBodySize);
    }
    if (body === 'aborted' || res.destroyed) return;
    const outcome = await reload(closing);
    if (res.destroyed) return;
    if (!outcome.ok) {
      const message = 'The config has errors; the running config stays';
      return sendError(req, res, 400, message, undefined, { errors: outcome.errors });
    }
    sendJSON(req, res, 200, reportToJSON(outcome.report));
  };
  return {
    path: ['api', 'reload'],
    methods: WRITE,
    serve: (req, res) => void serve(req, res).catch((error: unknown) => sendFailure(req, res, error)),
  };
}

/** The wire form: `{ "added": { "count", "names" }, …, "renamed": [{ "from", "to" }], "not_applied": [...] }`. */
function reportToJSON(report: ReloadReport): Record<string, unknown> {
  const group = (names: readonly string[]) => ({ count: names.length, names });
  return {
    added: group(report.added),
    removed: group(report.removed),
    changed: group(report.changed),
    unchanged: group(report.unchanged),
    renamed: report.renamed,
    not_applied: report.notApplied,
  };
}
