/**
 * One `grpc.health.v1.Health/Check` call through the optional peer
 * dependency `@grpc/grpc-js`, on a channel of its own that is closed when
 * the call ends, however it ends.
 * @internal
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type * as Grpc from '@grpc/grpc-js';
import { abortError } from './abort.js';
import { peerNotAfter } from './cert-expiry.js';
import { encodeHealthCheckRequest, HEALTH_CHECK_PATH } from './grpc-health.js';
import { CheckFailure, type LoadedTls } from './request.js';
import { describeNetworkError } from './network-error.js';

const PEER = '@grpc/grpc-js';

/** The largest answer accepted: a HealthCheckResponse is 2 bytes, so anything big is not one. */
export const MAX_RESPONSE_BYTES = 4096;

/** The peer dependency's module. */
export type GrpcModule = (typeof Grpc)['default'];
let loading: Promise<GrpcModule> | undefined;

/** Loads `@grpc/grpc-js` once, with a message saying how to get it when it is missing. */
export function loadGrpc(): Promise<GrpcModule> {
  loading ??= import('@grpc/grpc-js').then(
    // A CommonJS package: Node gives its exports as the default export; some loaders (tsx) do not.
    (module) => (module.default as GrpcModule | undefined) ?? (module as unknown as GrpcModule),
    (error: unknown) => {
      loading = undefined;
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new CheckFailure(
          `grpcChecker needs the optional peer dependency ${PEER}: npm install ${PEER}@1`,
        );
      }
      throw new CheckFailure(`cannot load ${PEER}: ${error instanceof Error ? error.name : 'an error'}`);
    },
  );
  return loading;
}

/** How the call ended, when it did not abort. */
export type CallResult =
  | { readonly kind: 'response'; readonly bytes: Buffer }
  | { readonly kind: 'error'; readonly code: unknown; readonly details: unknown };

/** What one call needs. */
export interface CallSpec {
  readonly address: string;
  readonly service: string;
  /** TLS material, or `undefined` for plaintext. */
  readonly tls: LoadedTls | undefined;
  /**
   * Told the notAfter of the certificate the server presented, read from the
   * TLS socket once the handshake is done (so with `skipVerify` too, as the
   * HTTP-based checkers read it).
   */
  readonly onServerCertificate: (notAfter: Date) => void;
  /**
   * The call's deadline, in ms since the epoch of the system time (grpc-js
   * sends it to the server as `grpc-timeout`); `undefined`: none.
   */
  readonly deadline?: number | undefined;
  readonly target: string;
  readonly signal: AbortSignal;
}

function credentials(grpc: GrpcModule, tls: LoadedTls | undefined): Grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  const pem = (value: string | Buffer | undefined): Buffer | null =>
    value === undefined ? null : Buffer.from(value);
  try {
    return grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert), {
      rejectUnauthorized: tls.rejectUnauthorized,
    });
  } catch (error) {
    // Bad key material throws while the secure context is built; the reason names no byte of it.
    throw new CheckFailure(describeNetworkError(error));
  }
}

/**
 * Closes a connection now. A plain `destroy()` is not enough once grpc-js's
 * HTTP/2 session holds the socket (the handle stays open), so TCP sockets are
 * reset; a TLS socket is destroyed (its TCP socket, tracked too, is reset).
 */
function drop(socket: Socket): void {
  if (socket.destroyed && socket.closed) return;
  if (socket instanceof TLSSocket) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** What grpc-js hands a connection to once TCP is up (its `SecureConnector`, an internal interface). */
interface Connector {
  connect(socket: Socket): Promise<{ socket: Socket; secure: boolean }>;
}

/**
 * Credentials that remember every socket their channel opens. grpc-js does
 * not destroy a connection still in its TLS or HTTP/2 handshake when the
 * channel closes (it waits for the server), so a server that accepts and
 * never answers would keep a socket open after the check; the check destroys
 * the sockets itself. Uses grpc-js's `_createSecureConnector`; without it
 * (another grpc-js version), the credentials are used as they are.
 */
function trackSockets(
  base: Grpc.ChannelCredentials,
  sockets: Set<Socket>,
  done: () => boolean,
  onSecure: (socket: Socket) => void,
): Grpc.ChannelCredentials {
  const create = (base as unknown as Record<string, unknown>)._createSecureConnector;
  if (typeof create !== 'function') return base;
  const tracked = Object.create(base) as Record<string, unknown>;
  tracked._createSecureConnector = (...args: unknown[]): Connector => {
    const connector = create.apply(base, args) as Connector;
    const wrapped = Object.create(connector) as Connector;
    wrapped.connect = async (socket) => {
      sockets.add(socket);
      // A connection that comes up after the check ended (grpc-js goes on connecting) is dropped at once.
      if (done()) drop(socket);
      const result = await connector.connect(socket);
      sockets.add(result.socket);
      // The handshake is done (and, unless skipVerify, verified): the peer certificate is known.
      if (result.secure) onSecure(result.socket);
      if (done()) drop(result.socket);
      return result;
    };
    return wrapped;
  };
  return tracked as unknown as Grpc.ChannelCredentials;
}

function channelOptions(tls: LoadedTls | undefined): Grpc.ChannelOptions {
  const options: Grpc.ChannelOptions = {
    // A connection of this check's own: a pooled one would hide a dead server behind a live one.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_channelz': 0,
    // One call, one answer: no transparent retries, no service config looked up in DNS.
    'grpc.enable_retries': 0,
    'grpc.service_config_disable_resolution': 1,
    'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
    'grpc.primary_user_agent': 'provider-health',
  };
  // The name the server certificate must carry; like the HTTP checker's, it changes TLS only, not :authority.
  if (tls?.servername !== undefined) options['grpc.ssl_target_name_override'] = tls.servername;
  return options;
}

/**
 * Calls `Health/Check` once. Resolves with the raw response or the gRPC
 * error; rejects with a {@link CheckFailure} (unusable TLS material) or, when
 * `signal` aborts, with an abort error after cancelling the call. The channel
 * is closed and the listener removed whichever way it ends.
 */
export function callHealthCheck(grpc: GrpcModule, spec: CallSpec): Promise<CallResult> {
  const { signal, target } = spec;
  if (signal.aborted) return Promise.reject(abortError(signal, target));
  const Health = grpc.makeGenericClientConstructor(
    {
      Check: {
        path: HEALTH_CHECK_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (request: Buffer) => request,
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (response: Buffer) => response,
        // Decoded by the caller, so a malformed answer is reported as such rather than as INTERNAL.
        responseDeserialize: (bytes: Buffer) => bytes,
        originalName: 'check',
      },
    },
    'grpc.health.v1.Health',
  );
  const sockets = new Set<Socket>();
  let ended = false;
  const onSecure = (socket: Socket): void => {
    const notAfter = peerNotAfter(socket);
    if (notAfter !== undefined) spec.onServerCertificate(notAfter);
  };
  const credentialsTracked = (): Grpc.ChannelCredentials =>
    trackSockets(credentials(grpc, spec.tls), sockets, () => ended, onSecure);
  let client: Grpc.Client;
  try {
    client = new Health(spec.address, credentialsTracked(), channelOptions(spec.tls));
  } catch (error) {
    return Promise.reject(
      error instanceof CheckFailure ? error : new CheckFailure('cannot open a channel to this address'),
    );
  }
  return new Promise<CallResult>((resolve, reject) => {
    const onAbort = (): void => {
      ended = true;
      call.cancel();
      client.close();
      for (const socket of sockets) drop(socket);
      reject(abortError(signal, target));
    };
    const check = (client as unknown as Record<string, unknown>).Check as (
      request: Buffer,
      metadata: Grpc.Metadata,
      options: Grpc.CallOptions,
      callback: (error: Grpc.ServiceError | null, response?: Buffer) => void,
    ) => Grpc.ClientUnaryCall;
    const call = check.call(
      client,
      encodeHealthCheckRequest(spec.service),
      new grpc.Metadata(),
      spec.deadline === undefined ? {} : { deadline: spec.deadline },
      (error, response) => {
        signal.removeEventListener('abort', onAbort);
        ended = true;
        client.close();
        // A finished call's connection closes gracefully with the channel; one still connecting would not.
        for (const socket of sockets) if (socket.connecting || !socket.writable) drop(socket);
        if (signal.aborted) return; // Already rejected by onAbort.
        if (error) resolve({ kind: 'error', code: error.code, details: error.details });
        else resolve({ kind: 'response', bytes: response ?? Buffer.alloc(0) });
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
