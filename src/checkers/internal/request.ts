import http from 'node:http';
import https from 'node:https';
import { abortError } from './abort.js';
import { peerNotAfter } from './cert-expiry.js';
import { describeNetworkError, errorCode } from './network-error.js';

/** TLS settings for one request, already loaded. @internal */
export interface LoadedTls {
  readonly ca?: string | Buffer | undefined;
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/** One HTTP request a checker makes. @internal */
export interface RequestSpec {
  /** `http:` or `https:`; with `socketPath` only the path and query are used. */
  readonly url: URL;
  /** A unix socket to talk HTTP over, instead of the URL's host. */
  readonly socketPath?: string | undefined;
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly tls?: LoadedTls | undefined;
  /** An agent to use instead of a fresh connection (proxies set up by a kubeconfig). */
  readonly agent?: http.Agent | undefined;
  /** Bytes of body read; the answer is complete at this many (0: headers only). Default 64 KiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Who is asked, for messages: a description without credentials. */
  readonly target: string;
  readonly signal: AbortSignal;
}

/** What the server answered. @internal */
export interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as UTF-8, cut at `maxBodyBytes`. */
  readonly body: string;
  /** Whether `maxBodyBytes` were reached (the body may go on). */
  readonly truncated: boolean;
  /** Over TLS: when the certificate the server presented expires. */
  readonly serverCertificateNotAfter: Date | undefined;
}

/** A failure whose message is a safe, short reason (without the target, which the caller adds). @internal */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/**
 * Makes one HTTP(S) request and reads the answer. Rejects with a
 * {@link CheckFailure} whose message is the reason, or with
 * an abort error when `signal` fires; either way the socket is destroyed and
 * no listener is left on `signal`.
 * @internal
 */
export function request(spec: RequestSpec): Promise<Answer> {
  // Longer than ~60 lines: one promise around one ClientRequest, whose listeners share the
  // settle-and-clean-up state, so they are kept together.
  const { signal } = spec;
  if (signal.aborted) return Promise.reject(abortError(signal, spec.target));
  const maxBody = spec.maxBodyBytes ?? 64 * 1024;
  const secure = spec.url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: spec.method ?? 'GET',
    path: `${spec.url.pathname}${spec.url.search}`,
    headers: { 'User-Agent': 'provider-health', ...spec.headers },
    // A fresh connection per check: a pooled socket would hide a dead daemon behind a live one.
    agent: spec.agent ?? false,
  };
  if (spec.socketPath !== undefined) {
    options.socketPath = spec.socketPath;
    options.host = 'localhost';
  } else {
    // WHATWG URLs keep IPv6 literals bracketed; node:http wants them bare.
    options.hostname = spec.url.hostname.replace(/^\[(.*)\]$/, '$1');
    options.port = spec.url.port || (secure ? 443 : 80);
  }
  if (secure && spec.tls) {
    const { ca, cert, key, servername, rejectUnauthorized } = spec.tls;
    Object.assign(options, { ca, cert, key, rejectUnauthorized });
    if (servername !== undefined) options.servername = servername;
  }

  return new Promise<Answer>((resolve, reject) => {
    let req: http.ClientRequest;
    try {
      req = (secure ? https : http).request(options);
    } catch (error) {
      // Bad TLS material throws here, while the secure context is built.
      reject(new CheckFailure(describeNetworkError(error)));
      return;
    }
    const onAbort = (): void => {
      req.destroy();
      reject(abortError(signal, spec.target));
    };
    const cleanUp = (): void => signal.removeEventListener('abort', onAbort);
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => {
      cleanUp();
      if (signal.aborted) return reject(abortError(signal, spec.target));
      let reason = describeNetworkError(error);
      // A server that refuses a client certificate often just resets the connection (TLS 1.3).
      if (secure && spec.tls?.cert !== undefined && errorCode(error) === 'ECONNRESET') {
        reason += ' (was the client certificate rejected?)';
      }
      reject(new CheckFailure(reason));
    });
    req.on('response', (res) => {
      // Read now: the socket is gone once the answer is complete.
      const notAfter = secure ? peerNotAfter(res.socket) : undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      let settled = false;
      // Enough has been read once the cap is reached: an endless body (a stream) must not hold the check.
      const finish = (truncated: boolean): void => {
        if (settled) return;
        settled = true;
        cleanUp();
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
          serverCertificateNotAfter: notAfter,
        });
        req.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, maxBody - kept));
        kept += Math.min(chunk.length, maxBody - kept);
        if (kept >= maxBody) finish(true);
      });
      res.on('end', () => finish(false));
      res.on('error', (error) => {
        if (settled) return;
        settled = true;
        cleanUp();
        reject(
          signal.aborted
            ? abortError(signal, spec.target)
            : new CheckFailure(`the answer was cut off (${describeNetworkError(error)})`),
        );
      });
      if (maxBody === 0) finish(false);
    });
    req.end();
  });
}
