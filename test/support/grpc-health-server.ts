/**
 * A real `@grpc/grpc-js` server implementing `grpc.health.v1.Health/Check` on
 * a free loopback port, whose statuses the test sets. Its protobuf coding is
 * written here independently of the checker's, so a bug in either shows.
 *
 * ```ts
 * const server = await startGrpcHealthServer();
 * server.setStatus('', 'NOT_SERVING');
 * // ... grpcChecker({ address: server.address, plaintext: true })
 * await server.close();
 * ```
 */
import * as grpc from '@grpc/grpc-js';

/** What the server answers for a service. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const STATUS_NUMBERS: Readonly<Record<ServingStatus, number>> = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
};

/** How the server behaves, besides answering the status set for a service. */
export type ServerMode =
  | 'normal'
  /** Never answers a call (the call stays open until the client cancels it). */
  | 'hang'
  /** Ends every call with a gRPC error of this code instead. */
  | { readonly error: grpc.status; readonly details?: string }
  /** Answers these raw bytes as the response message. */
  | { readonly raw: Buffer };

/** Options of {@link startGrpcHealthServer}. */
export interface GrpcHealthServerOptions {
  /** Serve TLS with this certificate and key. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Require a client certificate signed by this CA (mutual TLS); needs `tls`. */
  readonly clientCa?: string | undefined;
  /** Serve no health service at all (calls end with UNIMPLEMENTED). */
  readonly withoutHealthService?: boolean | undefined;
}

/** A running health server. */
export interface GrpcHealthServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly port: number;
  /** Service names received, in order (`''` for the server as a whole). */
  readonly requests: string[];
  /** Each call's deadline as the server learnt it (`call.getDeadline()`: `Infinity` for none), in order. */
  readonly deadlines: grpc.Deadline[];
  /** Calls that are still open (not answered, not cancelled). */
  readonly openCalls: number;
  /** Sets the status a service answers; a service without one gets NOT_FOUND, as grpc-go's health server answers. */
  setStatus(service: string, status: ServingStatus): void;
  setMode(mode: ServerMode): void;
  /** Stops at once, cancelling open calls. */
  close(): Promise<void>;
}

function decodeService(buffer: Buffer): string {
  // HealthCheckRequest { string service = 1 }: tag 0x0a, a one- or two-byte length, the text.
  if (buffer.length === 0) return '';
  if (buffer[0] !== 0x0a) throw new Error(`unexpected request bytes ${buffer.toString('hex')}`);
  let length = buffer[1] ?? 0;
  let start = 2;
  if (length & 0x80) {
    length = (length & 0x7f) + (buffer[2] ?? 0) * 128;
    start = 3;
  }
  return buffer.subarray(start, start + length).toString('utf8');
}

const definition: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (value: Buffer) => value,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

/** Starts a server on a free port of 127.0.0.1; everything SERVING until told otherwise. */
export async function startGrpcHealthServer(
  options: GrpcHealthServerOptions = {},
): Promise<GrpcHealthServer> {
  const statuses = new Map<string, ServingStatus>([['', 'SERVING']]);
  const requests: string[] = [];
  const deadlines: grpc.Deadline[] = [];
  let mode: ServerMode = 'normal';
  let openCalls = 0;
  const server = new grpc.Server();
  if (options.withoutHealthService !== true) {
    server.addService(definition, {
      Check(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
        const service = decodeService(call.request);
        requests.push(service);
        deadlines.push(call.getDeadline());
        if (mode === 'hang') {
          openCalls += 1;
          call.once('cancelled', () => (openCalls -= 1));
          return;
        }
        if (typeof mode === 'object' && 'error' in mode) {
          callback({ code: mode.error, details: mode.details ?? 'test error' });
          return;
        }
        if (typeof mode === 'object') {
          callback(null, mode.raw);
          return;
        }
        const status = statuses.get(service);
        // As the reference implementation: an unknown service is NOT_FOUND, not a status.
        if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else callback(null, Buffer.from([0x08, STATUS_NUMBERS[status]]));
      },
    });
  }
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.clientCa === undefined ? null : Buffer.from(options.clientCa),
        [{ cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) }],
        options.clientCa !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    requests,
    deadlines,
    get openCalls() {
      return openCalls;
    },
    setStatus: (service, status) => void statuses.set(service, status),
    setMode: (next) => void (mode = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
