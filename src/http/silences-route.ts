import type { IncomingMessage, ServerResponse } from 'node:http';
import { settleOrAbort, timeoutSignal } from '../async.js';
import { isOptionError } from '../errors.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import { silenceToJSON } from '../quiet/silence.js';
import { SilenceConflictError, SilenceLimitError } from '../quiet/silence-set.js';
import type { ResolvedHandlerOptions } from './options.js';
import { isJsonType, readJsonBody } from './read-json.js';
import { drainBody } from './read-body.js';
import { sendDenial, type RefreshAuth } from './refresh-auth.js';
import { BASE_HEADERS, sendClosing, sendError, sendFailure, sendJSON, sendTooLarge } from './responses.js';
import { NAME, type Route } from './route-table.js';
import { WriteLimiter } from './write-limiter.js';

/** The largest `POST /api/silences` body, in bytes (a silence naming 1,000 providers fits when names are short). */
export const MAX_SILENCE_BODY = 16 * 1024;
/** Silence creations and expiries allowed at once per handler … */
export const SILENCE_WRITE_BURST = 20;
/** … and then one per this many ms; beyond it 429 with `Retry-After`. */
export const SILENCE_WRITE_INTERVAL = 1_000;
/** Field names and ids quoted in answers are cut to this many characters. */
const MAX_QUOTED = 100;

/**
 * `GET /api/silences` (the silences and the maintenance windows open now),
 * `POST /api/silences` (create one from a JSON body) and
 * `DELETE /api/silences/{id}` (end one now). Writes need the refresh
 * authorisation (bearer token, else loopback only) and are rate-limited;
 * the `SilenceControl` bounds how many silences are held. @internal
 */
export class SilencesRoute {
  readonly #control: SilenceControl;
  readonly #options: ResolvedHandlerOptions;
  readonly #closing: AbortSignal;
  readonly #auth: RefreshAuth;
  readonly #limiter: WriteLimiter;

  constructor(
    control: SilenceControl,
    options: ResolvedHandlerOptions,
    closing: AbortSignal,
    auth: RefreshAuth,
  ) {
    this.#control = control;
    this.#options = options;
    this.#closing = closing;
    this.#auth = auth;
    this.#limiter = new WriteLimiter(SILENCE_WRITE_BURST, SILENCE_WRITE_INTERVAL, options.clock);
  }

  /** The route table rows. */
  get routes(): Route[] {
    const guard =
      (serve: (req: IncomingMessage, res: ServerResponse, id: string) => Promise<void>) =>
      (req: IncomingMessage, res: ServerResponse, id: string): void => {
        serve(req, res, id).catch((error: unknown) => sendFailure(req, res, error));
      };
    return [
      {
        path: ['api', 'silences'],
        methods: ['GET', 'HEAD', 'POST'],
        maxBodySize: MAX_SILENCE_BODY,
        serve: guard((req, res) => (req.method === 'POST' ? this.#create(req, res) : this.#list(req, res))),
      },
      {
        path: ['api', 'silences', NAME],
        methods: ['DELETE'],
        serve: guard((req, res, id) => this.#expire(req, res, id)),
      },
    ];
  }

  #list(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const silences = this.#control.list().map(silenceToJSON);
    const windows = this.#control.openWindows().map(({ window, occurrence }) => ({
      name: window.name,
      selector: window.selector.toString(),
      comment: window.comment,
      startsAt: occurrence.start.toISOString(),
      endsAt: occurrence.end.toISOString(),
    }));
    sendJSON(req, res, 200, { silences, windows });
    return Promise.resolve();
  }

  async #create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#allowed(req, res, 'Creating silences')) return;
    if (!isJsonType(req.headers['content-type'])) {
      return sendError(req, res, 415, 'Send the silence as JSON with Content-Type: application/json');
    }
    const body = await readJsonBody(req, MAX_SILENCE_BODY);
    if (body.kind === 'aborted' || res.destroyed) return;
    if (body.kind === 'too-large') {
      return sendTooLarge(req, res, MAX_SILENCE_BODY);
    }
    if (body.kind === 'invalid') return sendError(req, res, 400, body.message, undefined, { field: 'body' });
    const input = body.value;
    const silence = await this.#write(req, res, (signal) => this.#control.add(input, signal));
    if (silence === undefined || res.destroyed) return;
    const location = `${this.#options.basePath}/api/silences/${encodeURIComponent(silence.id)}`;
    sendJSON(req, res, 201, { silence: silenceToJSON(silence) }, { Location: location });
  }

  async #expire(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (!this.#allowed(req, res, 'Expiring silences')) return;
    const { maxBodySize } = this.#options;
    const body = await drainBody(req, maxBodySize);
    if (body === 'aborted' || res.destroyed) return;
    if (body === 'too-large') {
      return sendTooLarge(req, res, maxBodySize);
    }
    const expired = await this.#write(req, res, (signal) => this.#control.expire(id, signal));
    if (expired === undefined || res.destroyed) return;
    if (expired) {
      res.writeHead(204, { ...BASE_HEADERS, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const quoted = JSON.stringify(id.length > MAX_QUOTED ? `${id.slice(0, MAX_QUOTED)}…` : id);
    sendError(req, res, 404, `No silence ${quoted} is pending or in force`, undefined, {
      id: id.slice(0, MAX_QUOTED),
    });
  }

  /** Authorisation and the write rate limit; answers the refusal and returns `false` when refused. */
  #allowed(req: IncomingMessage, res: ServerResponse, action: string): boolean {
    const denial = this.#auth.check(req, action);
    if (denial) {
      sendDenial(req, res, denial);
      return false;
    }
    const wait = this.#limiter.take();
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      const message = `Too many silence changes; at most ${SILENCE_WRITE_BURST} at once, then one per ${SILENCE_WRITE_INTERVAL} ms`;
      sendError(req, res, 429, message, { 'Retry-After': String(seconds) }, { retry_after: seconds });
      return false;
    }
    return true;
  }

  /**
   * Runs one change under a deadline (`refreshTimeout`, and the handler's
   * close). Resolves with its result, or answers the failure (naming the
   * field) and resolves with `undefined`.
   */
  async #write<T>(
    req: IncomingMessage,
    res: ServerResponse,
    change: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    const deadline = timeoutSignal(this.#options.clock, this.#options.refreshTimeout, [this.#closing], {
      keepAlive: true,
    });
    try {
      // Called inside a promise so a synchronous throw is a rejection like any other.
      const settled = await settleOrAbort(
        Promise.resolve().then(() => change(deadline.signal)),
        deadline.signal,
      );
      if (settled.kind === 'value') return settled.value;
      if (settled.kind === 'error') sendChangeError(req, res, settled.error);
      else if (deadline.timedOut) {
        const message = 'The silence store did not answer in time; the change may or may not have been made';
        sendError(req, res, 503, message, { 'Retry-After': '1' });
      } else sendClosing(req, res);
      return undefined;
    } finally {
      deadline.dispose();
    }
  }
}

/** The answer for what a `SilenceControl` threw. */
function sendChangeError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (isOptionError(error)) {
    return sendError(req, res, 400, error.message, undefined, { field: error.option.slice(0, MAX_QUOTED) });
  }
  if (error instanceof SilenceConflictError) {
    return sendError(req, res, 409, error.message, undefined, { existing: error.existing });
  }
  if (error instanceof SilenceLimitError) {
    return sendError(req, res, 429, error.message, undefined, { limit: error.limit });
  }
  // A store failure (Redis down): its message could name a server; only the class is given.
  const kind = error instanceof Error ? error.name : typeof error;
  sendError(req, res, 503, `The silence store failed (${kind}); try again`, { 'Retry-After': '1' });
}
