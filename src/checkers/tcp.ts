import net from 'node:net';
import type { Checker, CheckerOptions } from './checker.js';
import type { HealthReport } from '../provider.js';
import { NEVER, abortError } from './internal/abort.js';
import { describeNetworkError } from './internal/network-error.js';
import { checkerClockOption, optionFailure, slowThresholdOption } from './internal/options.js';
import { optionTypeError, optionsObject, stringOption } from '../validate.js';
import { Outcome } from './internal/outcome.js';

const CHECKER = 'tcpChecker';

/** Options of {@link tcpChecker}. */
export interface TcpCheckerOptions extends CheckerOptions {
  /** Host name or IP address to connect to. Required. */
  host: string;
  /** TCP port, an integer from 1 to 65535. Required. */
  port: number;
}

/** A checker that opens a TCP connection and closes it at once. */
export type TcpChecker = Checker;

/**
 * Checks that `host:port` accepts TCP connections: healthy when the
 * connection opens (it is closed at once), unhealthy with the reason
 * (connection refused, DNS failure...) otherwise.
 *
 * ```ts
 * registry.register('postgres', tcpChecker({ host: '127.0.0.1', port: 5432 }));
 * ```
 *
 * @throws TypeError or RangeError naming a bad option.
 */
export function tcpChecker(options: TcpCheckerOptions): TcpChecker {
  const scope = { scope: CHECKER };
  optionsObject(options, { ...scope, required: true });
  const host = stringOption('host', options.host, undefined, scope);
  if (host === undefined)
    throw optionFailure(CHECKER, 'host', 'host is required (a host name or IP address)', host);
  const { port } = options;
  if (typeof port !== 'number' || !Number.isInteger(port))
    throw optionTypeError('port', 'an integer', port, scope);
  if (port < 1 || port > 65_535)
    throw optionFailure(CHECKER, 'port', `port must be from 1 to 65535, got ${port}`, port, { range: true });
  const slowThreshold = slowThresholdOption(CHECKER, options.slowThreshold);
  const clock = checkerClockOption(CHECKER, options.clock);
  const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;

  return {
    target,
    healthCheck(signal: AbortSignal = NEVER): Promise<HealthReport> {
      if (signal.aborted) return Promise.reject(abortError(signal, target));
      const outcome = new Outcome(slowThreshold, clock);
      return new Promise<HealthReport>((resolve, reject) => {
        const socket = net.connect({ host, port });
        const finish = (): void => {
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
        };
        const onAbort = (): void => {
          finish();
          reject(abortError(signal, target));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => {
          finish();
          resolve(outcome.healthy(`connected to ${target}`));
        });
        socket.once('error', (error) => {
          finish();
          resolve(outcome.unhealthy(`${target}: ${describeNetworkError(error)}`));
        });
      });
    },
  };
}
