import net from 'node:net';
import type { CertExpiryOptions, Checker, CheckerOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { booleanOption, durationOption, optionTypeError, optionsObject, stringOption } from '../validate.js';
import { NEVER, abortError } from './internal/abort.js';
import { describeCallFailure, grpcCodeName } from './internal/grpc-errors.js';
import { callHealthCheck, loadGrpc, type CallResult } from './internal/grpc-call.js';
import {
  decodeHealthCheckResponse,
  MalformedResponseError,
  MAX_SERVICE_BYTES,
  servingStatusName,
} from './internal/grpc-health.js';
import { applyExpiries, certExpiryWarningOption, earlier, pemNotAfter } from './internal/cert-expiry.js';
import { checkerClockOption, slowThresholdOption } from './internal/options.js';
import { Outcome } from './internal/outcome.js';
import { CheckFailure, type LoadedTls } from './internal/request.js';
import { loadTls, tlsOption, type TlsOptions } from './internal/tls.js';

export type { TlsOptions } from './internal/tls.js';

const CHECKER = 'grpcChecker';
const SITE = { scope: CHECKER } as const;
const MAX_ADDRESS_CHARS = 1024;

/** Options of {@link grpcChecker}. */
export interface GrpcCheckerOptions extends CheckerOptions, CertExpiryOptions {
  /** `host:port`, `[ipv6]:port`, or `unix:/path/to.sock`. Required. */
  address: string;
  /** The service whose health is asked; default `''`, the server as a whole. At most 1024 bytes. */
  service?: string | undefined;
  /**
   * TLS settings: trusted CA, client certificate and key for mutual TLS
   * (`key` is a secret, never shown), `serverName`, `skipVerify`. Without
   * `tls` and without `plaintext`, TLS is used with Node's bundled root CAs.
   * The server certificate's expiry is in `details.serverCertificateNotAfter`
   * (read from the connection, so with `skipVerify` too), the client
   * certificate's in `details.clientCertificateNotAfter`.
   */
  tls?: TlsOptions | undefined;
  /** Speak gRPC without TLS (h2c). Default `false`; cannot be combined with `tls`. */
  plaintext?: boolean | undefined;
  /**
   * The call's deadline, in ms from its start: sent to the server (the
   * `grpc-timeout` header, so it can give up too), and a call past it ends
   * with `DEADLINE_EXCEEDED`. Default: no deadline (the check's signal still
   * cancels the call). Set it below the check timeout for the server to learn it.
   */
  timeout?: number | undefined;
}

/** A checker that calls the gRPC health checking protocol. */
export type GrpcChecker = Checker;

function addressOption(value: unknown): string {
  if (value === undefined) throw optionTypeError('address', 'given (host:port)', value, SITE);
  const address = stringOption('address', value, '', SITE);
  if (address.length > MAX_ADDRESS_CHARS || /[\s@]/.test(address)) {
    throw optionTypeError('address', 'host:port, [ipv6]:port or unix:/path', address, SITE);
  }
  if (address.startsWith('unix:')) return address;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  const host = match?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (match === null || port < 1 || port > 65_535 || (match[1]?.startsWith('[') && !net.isIPv6(host))) {
    throw optionTypeError('address', 'host:port, [ipv6]:port or unix:/path', address, SITE);
  }
  return address;
}

function serviceOption(value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string') throw optionTypeError('service', 'a string', value, SITE);
  if (Buffer.byteLength(value) > MAX_SERVICE_BYTES || /\p{Cc}/u.test(value)) {
    throw optionTypeError('service', `a service name of at most ${MAX_SERVICE_BYTES} bytes`, value, SITE);
  }
  return value;
}

/**
 * Calls `grpc.health.v1.Health/Check` (the gRPC health checking protocol) on
 * `address`: healthy when the answer is `SERVING`; unhealthy naming the
 * status (`NOT_SERVING`, `SERVICE_UNKNOWN`, `UNKNOWN`) or the gRPC error
 * (`UNAVAILABLE: connection refused`, `UNIMPLEMENTED: the server does not
 * implement the health service`, TLS failures, `DEADLINE_EXCEEDED` past the
 * `timeout` option's deadline...). Each check opens its own channel and
 * closes it when the call ends; an aborted signal cancels the call. Needs the
 * optional peer dependency `@grpc/grpc-js`.
 *
 * ```ts
 * registry.register('orders', grpcChecker({ address: 'orders.internal:50051', service: 'orders.v1.Orders' }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option.
 */
export function grpcChecker(options: GrpcCheckerOptions): GrpcChecker {
  optionsObject(options, { ...SITE, required: true });
  const address = addressOption(options.address);
  const service = serviceOption(options.service);
  const plaintext = booleanOption('plaintext', options.plaintext, false, SITE);
  const tlsSource = tlsOption(CHECKER, 'tls', options.tls);
  if (plaintext && tlsSource !== undefined) {
    throw optionTypeError('plaintext', 'false (or left out) when tls is given', plaintext, SITE);
  }
  const timeout = durationOption('timeout', options.timeout, undefined, SITE);
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const certExpiryWarning = certExpiryWarningOption(CHECKER, options.certExpiryWarning);
  const clock = checkerClockOption(CHECKER, options.clock);
  const target = address;
  const what = service === '' ? target : `${target} service ${JSON.stringify(service)}`;

  function judge(result: CallResult, outcome: Outcome, clientCertificate: boolean): HealthReport {
    if (result.kind === 'error') {
      const context = { secure: !plaintext, clientCertificate, service, timeout };
      const reason = describeCallFailure(result, context);
      return outcome.unhealthy(`${what}: ${reason}`, { code: grpcCodeName(result.code) });
    }
    let status: number;
    try {
      status = decodeHealthCheckResponse(result.bytes);
    } catch (error) {
      if (!(error instanceof MalformedResponseError)) throw error;
      return outcome.unhealthy(
        `${what}: the server answered a malformed HealthCheckResponse (${error.message})`,
      );
    }
    const name = servingStatusName(status);
    const withStatus = { status: name };
    if (name === 'SERVING') return outcome.healthy(`${what} is SERVING`, withStatus);
    if (name === 'SERVICE_UNKNOWN')
      return outcome.unhealthy(
        `${what} is SERVICE_UNKNOWN (the server does not know the service)`,
        withStatus,
      );
    if (name.startsWith('status '))
      return outcome.unhealthy(
        `${what} answered ${name}, which the health protocol does not define`,
        withStatus,
      );
    return outcome.unhealthy(`${what} is ${name}`, withStatus);
  }

  async function check(signal: AbortSignal): Promise<HealthReport> {
    if (signal.aborted) throw abortError(signal, target);
    const outcome = new Outcome(slowThreshold, clock);
    let serverNotAfter: Date | undefined;
    try {
      const grpc = await loadGrpc();
      if (signal.aborted) throw abortError(signal, target);
      // Without tls and plaintext: TLS with Node's bundled roots, as an https URL would.
      const tls: LoadedTls | undefined = plaintext
        ? undefined
        : tlsSource
          ? await loadTls(tlsSource, signal)
          : { rejectUnauthorized: true };
      const result = await callHealthCheck(grpc, {
        address,
        service,
        tls,
        // A connection made again within the call may meet another certificate: the earlier date counts.
        onServerCertificate: (notAfter) => (serverNotAfter = earlier(serverNotAfter, notAfter)),
        // grpc-js measures a deadline against the system time (it sends the time left), so it is
        // taken from Date.now(), not from the injected clock, which may be a test's fixed date.
        deadline: timeout === undefined ? undefined : Date.now() + timeout,
        target,
        signal,
      });
      outcome.stop();
      const client = pemNotAfter(tls?.cert);
      applyExpiries(outcome, { server: serverNotAfter, client }, certExpiryWarning, clock.now());
      return judge(result, outcome, tls?.cert !== undefined);
    } catch (error) {
      if (error instanceof CheckFailure) return outcome.unhealthy(`${what}: ${error.message}`);
      throw error;
    }
  }

  return {
    target,
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      return check(signal);
    },
  };
}
