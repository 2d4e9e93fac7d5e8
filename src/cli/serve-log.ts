/**
 * What `serve` logs while it runs: provider transitions, and the service's own
 * trouble: Redis (role changes, each distinct problem once per outage, bad
 * records, repaired lease keys), running out of file descriptors, dropped
 * connections, listeners that throw.
 */
import type http from 'node:http';
import { toDisposable, type Disposable } from '../index.js';
import type { Logger } from './logger.js';
import type { ServerLimits } from './server-limits.js';
import { formatLatency } from './table.js';
import type { ServedView } from './view.js';

/** Dropped connections are logged at most once per this many milliseconds. */
const DROP_LOG_INTERVAL = 60_000;

/** Subscribes the log to every event of `view`; dispose to stop. */
export function logView(view: ServedView, log: Logger): Disposable {
  const subscriptions: Disposable[] = [];
  subscriptions.push(
    view.onTransition(({ name, from, to, status }) => {
      const line = `${name}: ${from} -> ${to}: ${status.message} (${formatLatency(status.latency)})`;
      const fields = { provider: name, from, to, latency: formatLatency(status.latency) };
      if (to === 'healthy') log.info(line, fields);
      else log.warn(line, fields);
    }),
  );
  subscriptions.push(view.onListenerError((error) => log.error(`a listener failed: ${describe(error)}`)));
  subscriptions.push(logFaults(view, log));
  if (view.onRoleChange) {
    subscriptions.push(
      view.onRoleChange(({ role, previous, reason }) => {
        const line = `redis: this replica is now ${role} (was ${previous}): ${reason}`;
        const fields = { redis: 'role', role, previous };
        // Polling alone means Redis is out of reach: every replica may be polling.
        if (role === 'local') log.warn(line, fields);
        else log.info(line, fields);
      }),
    );
  }
  if (view.onRedisError) {
    // The cache reports each distinct problem once per outage (a bad record once until it changes).
    subscriptions.push(
      view.onRedisError((error) => log.warn(`redis: ${error.message}`, { redis: error.name })),
    );
  }
  if (view.onLeaseRepair) {
    subscriptions.push(
      view.onLeaseRepair(({ kind, key }) =>
        log.warn(`redis: repaired the lease key ${key} (${kind})`, { redis: 'lease-repair', kind }),
      ),
    );
  }
  return toDisposable(() => {
    for (const subscription of subscriptions) subscription.dispose();
  });
}

/**
 * Logs a check that failed because this process ran out of file descriptors,
 * once per code until a check gets through again (the provider's status is kept).
 */
function logFaults(view: ServedView, log: Logger): Disposable {
  const reported = new Set<string>();
  const fault = view.onCheckerFault(({ name, code, message }) => {
    if (reported.has(code)) return;
    reported.add(code);
    log.error(
      `this service ran out of file descriptors (${code}): checks fail here, not at the providers; ${name}: ${message}`,
      { fault: code, provider: name },
    );
  });
  const result = view.onResult(() => {
    if (reported.size === 0) return;
    reported.clear();
    log.info('checks get through again: file descriptors are available');
  });
  return toDisposable(() => {
    fault.dispose();
    result.dispose();
  });
}

/** Logs connections the server closed at once because `maxConnections` were open. */
export function logDrops(server: http.Server, limits: ServerLimits, log: Logger): Disposable {
  let dropped = 0;
  let loggedAt = -Infinity;
  const onDrop = (): void => {
    dropped++;
    const now = performance.now();
    if (now - loggedAt < DROP_LOG_INTERVAL) return;
    loggedAt = now;
    log.warn(
      `closed ${dropped} new connection${dropped === 1 ? '' : 's'}: ${limits.maxConnections} open connections (server.maxConnections)`,
      { dropped, maxConnections: limits.maxConnections },
    );
    dropped = 0;
  };
  server.on('drop', onDrop);
  return toDisposable(() => server.off('drop', onDrop));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
