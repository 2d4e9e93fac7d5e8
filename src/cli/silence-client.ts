/**
 * Talking to a server's `/api/silences` for `provider-health silence`: one
 * request at a time, bounded in time and in what is read back, the bearer
 * token from the environment sent only to the server named (no redirects)
 * and never shown.
 */
import { timeoutSignal } from '../async.js';
import { redactSecrets, systemClock } from '../index.js';

/** The most bytes of an answer read: 32 MiB (10,000 silences with long comments fit). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** An answer from the server: its status and its body parsed as JSON (`undefined` when not JSON). */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The server could not be asked: unreachable, timed out, or its answer could not be read. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** One request: where, how, and with which token. */
export interface ApiRequest {
  readonly server: URL;
  /** Relative to the server's URL: `api/silences`, `api/silences/<id>`. */
  readonly path: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly body?: unknown;
  /** A secret: sent as `Authorization: Bearer …`, never shown. */
  readonly token: string | undefined;
  readonly timeout: number;
  readonly signal: AbortSignal;
}

/**
 * Sends one request and reads the answer.
 * @throws UnreachableError saying why the server could not be asked (never naming the token);
 *   the signal's reason when `signal` aborts.
 */
export async function callApi(request: ApiRequest): Promise<Answer> {
  const url = endpoint(request.server, request.path);
  const deadline = timeoutSignal(systemClock, request.timeout, [request.signal], { keepAlive: true });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.token !== undefined) headers['authorization'] = `Bearer ${request.token}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const init: RequestInit = {
      method: request.method,
      headers,
      // A redirect would carry the token to wherever it points: refuse it.
      redirect: 'error',
      signal: deadline.signal,
    };
    if (request.body !== undefined) init.body = JSON.stringify(request.body);
    const response = await fetch(url, init);
    const text = await readBounded(response);
    return { status: response.status, body: parseJson(text) };
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason;
    if (deadline.timedOut)
      throw new UnreachableError(`${shown(url)} did not answer within ${request.timeout} ms`);
    throw new UnreachableError(`cannot reach ${shown(url)}: ${describeFetchError(error)}`);
  } finally {
    deadline.dispose();
  }
}

/** `server` + `path`, keeping a path the server is mounted under (`https://ops/health/` + `api/…`). */
export function endpoint(server: URL, path: string): URL {
  const base = new URL(server.href);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  return new URL(path, base);
}

/** A URL for messages: it never carries credentials (refused by the flag parser), redacted all the same. */
function shown(url: URL): string {
  return redactSecrets(url.href);
}

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) throw new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Node's `fetch failed` says nothing: name the cause (`connection refused`). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const code = (cause as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (is provider-health serve running there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (code === 'ECONNRESET') return 'the connection was reset';
  if ((typeof code === 'string' && code.startsWith('ERR_TLS')) || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
    return `TLS failed (${code})`;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/redirect/i.test(message))
    return 'it answered with a redirect, which is not followed (the token would go along)';
  return redactSecrets(message).slice(0, 200);
}
