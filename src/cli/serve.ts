import { once } from 'node:events';
import http from 'node:http';
import { createHealthHandler, type HealthHandler } from '../http/handler.js';
import { settleOrAbort, timeoutSignal } from '../async.js';
import { redactSecrets, systemClock, type HealthView } from '../index.js';
import { startAlerting } from './alerting-setup.js';
import type { Invocation } from './args.js';
import { describeDiscovery } from './discovery.js';
import { formatDuration } from './duration.js';
import type { Io } from './io.js';
import { createLogger, type Logger } from './logger.js';
import { startOperations } from './ops-service.js';
import { startHistory } from './history-state.js';
import { logDrops, logView } from './serve-log.js';
import { startSilences } from './serve-silences.js';
import { applyServerLimits, serverOptions } from './server-limits.js';
import { prepare, type Setup } from './setup.js';
import { createView, type ServedView } from './view.js';

/** Defaults of `--host` and `--port`. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7070;

/** How long shutdown waits for the poller and open connections before giving up on them. */
const SHUTDOWN_GRACE = 1_500;

/**
 * `provider-health serve`: polls in the background and serves the health API
 * until `stop` aborts (SIGINT/SIGTERM), then stops polling, ends event
 * streams, closes the server and resolves with 0 within about 1.5 s, however
 * a checker behaves. Resolves with 1 when the server cannot listen.
 * @throws ConfigError for a bad config (exit 2); nothing has started then.
 */
export async function runServe(
  invocation: Extract<Invocation, { command: 'serve' }>,
  io: Io,
  stop: AbortSignal,
): Promise<number> {
  const log = createLogger(invocation.logFormat, io.stdout);
  const setup = await prepare(invocation.config, io, stop);
  const silences = await startSilences(setup, log, stop);
  let view: ServedView;
  try {
    view = await createView(setup, silences);
  } catch (error) {
    silences.dispose();
    throw error;
  }
  // Before the first sweep and before anything counts results: a restart shows the saved history at once.
  const history = await startHistory(setup, view, silences.store, log);
  const ops = startOperations(setup, view, io, log, stop);
  const alerting = await startAlerting(setup, view, log, silences.store);
  let handler: HealthHandler;
  try {
    handler = createHealthHandler(view, {
      ...ops.handlerOptions,
      alerts: alerting.alerts,
      silences: silences.attach(view),
      token: setup.server.token,
      minRefreshInterval: setup.server.minRefreshInterval,
      allowedHosts: setup.server.allowedHosts,
      maxEventStreams: setup.server.maxEventStreams,
      publishInterval: setup.server.publishInterval,
    });
  } catch (error) {
    alerting.dispose();
    ops.dispose();
    history?.dispose();
    silences.dispose();
    await view.dispose();
    throw setup.optionError(error);
  }

  const host = invocation.host ?? setup.server.host ?? DEFAULT_HOST;
  const port = invocation.port ?? setup.server.port ?? DEFAULT_PORT;
  const server = http.createServer(serverOptions(setup.server.limits), handler);
  applyServerLimits(server, setup.server.limits);
  try {
    await listen(server, host, port);
  } catch (error) {
    handler.close();
    alerting.dispose();
    ops.dispose();
    history?.dispose();
    silences.dispose();
    await view.dispose();
    log.error(`cannot listen on ${hostPort(host, port)}: ${describeListenError(error)}`);
    return 1;
  }

  if (setup.discovery) {
    for (const [index, line] of describeDiscovery(setup.discovery).entries()) {
      const result = setup.discovery.results[index];
      log.info(line, { discovered: result?.type, found: result?.provider !== undefined });
    }
  }
  logStart(log, setup, server, view);
  const logging = [logView(view, log), logDrops(server, setup.server.limits, log), ops];

  const polling = new AbortController();
  const running = view.run(polling.signal).catch((error: unknown) => {
    log.error(`the poller stopped: ${error instanceof Error ? error.message : String(error)}`);
  });

  if (!stop.aborted) await once(stop, 'abort');
  const reason: unknown = stop.reason;
  log.info(`stopping${typeof reason === 'string' ? ` (${reason})` : ''}`);
  // While the lease is still held: the last alert state is saved under it.
  await withDeadline(alerting.close(), SHUTDOWN_GRACE);
  polling.abort();
  handler.close();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  // A checker that ignores its signal must not hold the exit: wait a bounded time.
  await withDeadline(Promise.all([running, closed, Promise.resolve(view.dispose())]), SHUTDOWN_GRACE);
  for (const subscription of logging) subscription.dispose();
  // The handler is closed: no more changes; the last one is written before the exit.
  silences.dispose();
  await withDeadline(silences.flushed(), SHUTDOWN_GRACE);
  await withDeadline(history?.close() ?? Promise.resolve(), SHUTDOWN_GRACE);
  log.info('stopped');
  return 0;
}

function logStart(log: Logger, setup: Setup, server: http.Server, view: HealthView): void {
  const address = server.address();
  const url =
    address !== null && typeof address === 'object'
      ? `http://${hostPort(address.address, address.port)}`
      : '';
  const names = setup.providers.map((provider) => provider.name);
  const list =
    names.length === 0
      ? 'no providers (empty dashboard)'
      : `${names.length} provider${names.length === 1 ? '' : 's'}: ${names.join(', ')}`;
  const shared = setup.redis ? `, shared through ${redactSecrets(setup.redis.url)}` : '';
  const poll = formatDuration(view.options.pollInterval);
  const from = setup.file === undefined ? 'discovery' : setup.file;
  log.info(`listening on ${url} with ${list}${shared} (from ${from}, polling every ${poll})`, {
    url,
    providers: names.length > 0 ? names.join(',') : undefined,
    pollInterval: poll,
    config: setup.file,
  });
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeListenError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return 'the address is already in use';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'EADDRNOTAVAIL') return 'the address is not available on this machine';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  return error instanceof Error ? error.message : String(error);
}

/** Waits for `promise` (its rejection ignored) at most `ms`; the caller awaits it, so the timer keeps the process alive. */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  const deadline = timeoutSignal(systemClock, ms, [], { keepAlive: true });
  try {
    await settleOrAbort(promise, deadline.signal);
  } finally {
    deadline.dispose();
  }
}
