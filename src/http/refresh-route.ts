import type { IncomingMessage, ServerResponse } from 'node:http';
import { settleOrAbort, timeoutSignal } from '../async.js';
import { isUnknownProviderError } from '../errors.js';
import type { HealthView } from '../health-view.js';
import type { ResolvedHandlerOptions } from './options.js';
import { DETAIL_FIELDS, providersToJSON, providerToJSON } from './provider-json.js';
import { drainBody } from './read-body.js';
import { sendDenial, type RefreshAuth } from './refresh-auth.js';
import { RefreshLimiter } from './refresh-limiter.js';
import {
  sendClosing,
  sendError,
  sendFailure,
  sendJSON,
  sendUnknownProvider,
  sendTooLarge,
} from './responses.js';
import { NAME, WRITE, type Route } from './route-table.js';

/** How waiting for forced work ended. */
type WaitOutcome =
  | { readonly kind: 'done' | 'timeout' | 'gone' | 'closed' }
  | { readonly kind: 'failed'; readonly error: unknown };

/**
 * `POST /api/refresh` and `POST /api/providers/{name}/refresh`: authorised,
 * rate-limited forced checks that concurrent requests share. @internal
 */
export class RefreshRoute {
  readonly #view: HealthView;
  readonly #options: ResolvedHandlerOptions;
  readonly #closing: AbortSignal;
  readonly #auth: RefreshAuth;
  readonly #limiter: RefreshLimiter;
  /** Forced sweeps and checks in flight, which later refresh requests join instead of starting another. */
  #forcedSweep: Promise<unknown> | undefined;
  readonly #forcedChecks = new Map<string, Promise<unknown>>();

  /** `auth` is shared with the other state-changing routes (silences). */
  constructor(view: HealthView, options: ResolvedHandlerOptions, closing: AbortSignal, auth: RefreshAuth) {
    this.#view = view;
    this.#options = options;
    this.#closing = closing;
    this.#auth = auth;
    this.#limiter = new RefreshLimiter(options.minRefreshInterval, options.clock);
  }

  /** The route table rows. */
  get routes(): Route[] {
    const serve = (req: IncomingMessage, res: ServerResponse, name?: string): void => {
      this.#serve(req, res, name).catch((error: unknown) => sendFailure(req, res, error));
    };
    return [
      { path: ['api', 'refresh'], methods: WRITE, serve: (req, res) => serve(req, res) },
      { path: ['api', 'providers', NAME, 'refresh'], methods: WRITE, serve },
    ];
  }

  async #serve(req: IncomingMessage, res: ServerResponse, name: string | undefined): Promise<void> {
    const denial = this.#auth.check(req);
    if (denial) return sendDenial(req, res, denial);
    if (name !== undefined && !this.#view.registry.has(name)) return sendUnknownProvider(req, res, name);
    const { maxBodySize } = this.#options;
    const body = await drainBody(req, maxBodySize);
    if (body === 'too-large') {
      return sendTooLarge(req, res, maxBodySize);
    }
    if (body === 'aborted' || res.destroyed) return;

    let work = name === undefined ? this.#forcedSweep : this.#forcedChecks.get(name);
    if (work === undefined) {
      const permit = this.#limiter.acquire(name);
      if (!permit.ok) {
        const seconds = Math.max(1, Math.ceil(permit.retryAfter / 1000));
        const message = `Refreshed too recently; at most one forced check per ${this.#options.minRefreshInterval} ms`;
        return sendError(
          req,
          res,
          429,
          message,
          { 'Retry-After': String(seconds) },
          { retry_after: seconds },
        );
      }
      work = this.#force(name);
    }
    const outcome = await this.#wait(work, res);
    if (outcome.kind === 'gone') return;
    if (outcome.kind === 'closed') return sendClosing(req, res);
    if (outcome.kind === 'failed') {
      // The provider was unregistered while the request (its body) was arriving.
      if (name !== undefined && isUnknownProviderError(outcome.error))
        return sendUnknownProvider(req, res, name);
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      return sendError(req, res, 503, `The refresh failed: ${message}`);
    }
    const value =
      name === undefined ? providersToJSON(this.#view) : providerToJSON(this.#view, name, DETAIL_FIELDS);
    sendJSON(req, res, outcome.kind === 'done' ? 200 : 202, value);
  }

  /** Starts a forced sweep (or check of `name`) that concurrent refresh requests share. */
  #force(name: string | undefined): Promise<unknown> {
    if (name === undefined) {
      const sweep = this.#view.checkNow().finally(() => {
        if (this.#forcedSweep === sweep) this.#forcedSweep = undefined;
      });
      this.#forcedSweep = sweep;
      sweep.catch(() => {});
      return sweep;
    }
    const check = this.#view.checkProvider(name).finally(() => {
      if (this.#forcedChecks.get(name) === check) this.#forcedChecks.delete(name);
    });
    this.#forcedChecks.set(name, check);
    check.catch(() => {});
    return check;
  }

  /**
   * Waits for `work` at most `refreshTimeout` on the injected clock; stops
   * early when the client leaves or the handler closes.
   */
  async #wait(work: Promise<unknown>, res: ServerResponse): Promise<WaitOutcome> {
    const gone = new AbortController();
    const onGone = (): void => gone.abort();
    res.once('close', onGone);
    // The client waits on this timer: it keeps the process alive until it fires.
    const timeout = timeoutSignal(
      this.#options.clock,
      this.#options.refreshTimeout,
      [this.#closing, gone.signal],
      {
        keepAlive: true,
      },
    );
    try {
      const settled = await settleOrAbort(work, timeout.signal);
      if (settled.kind === 'value') return { kind: 'done' };
      if (settled.kind === 'error') return { kind: 'failed', error: settled.error };
      if (this.#closing.aborted) return { kind: 'closed' };
      return { kind: timeout.timedOut ? 'timeout' : 'gone' };
    } finally {
      timeout.dispose();
      res.off('close', onGone);
    }
  }
}
