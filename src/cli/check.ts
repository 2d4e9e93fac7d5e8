import { sleep } from '../async.js';
import {
  HealthCache,
  ProviderRegistry,
  statusToJSON,
  systemClock,
  type Clock,
  type Status,
} from '../index.js';
import type { Selector } from '../selector.js';
import type { Invocation } from './args.js';
import { describeDiscovery } from './discovery.js';
import type { Io } from './io.js';
import { registerAll, selectProviders } from './register.js';
import { prepare, type Setup } from './setup.js';
import { formatLatency, renderTable, type TableRow } from './table.js';

/** Exit codes of `check`. */
const EXIT_HEALTHY = 0;
const EXIT_UNHEALTHY = 1;

/** How long a sweep may take before the progress line appears. */
const PROGRESS_DELAY = 300;
const PROGRESS_INTERVAL = 200;

/**
 * `provider-health check`: one sweep, then a table (or JSON with `--json`).
 * Resolves with the exit code: 0 when every provider is healthy or degraded
 * (degraded ones get a warning on stderr), 1 when any is not or when there is
 * no provider at all. With `--selector`, only the providers it picks are
 * shown and judged; those they depend on are checked too, for `blocked_by`.
 * @throws ConfigError for a bad config (exit 2).
 */
export async function runCheck(
  invocation: Extract<Invocation, { command: 'check' }>,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  const setup = await prepare(invocation.config, io, signal);
  if (setup.discovery) {
    for (const line of describeDiscovery(setup.discovery)) io.stderr.write(`${line}\n`);
  }
  const { registry, shown } = selection(setup, invocation.selector);
  let cache: HealthCache;
  try {
    cache = new HealthCache(registry, setup.cacheOptions);
  } catch (error) {
    throw setup.optionError(error);
  }
  if (shown.length === 0) {
    if (invocation.json) io.stdout.write('[]\n');
    io.stderr.write(
      invocation.selector !== undefined && setup.registry.size > 0
        ? `no provider matches the selector ${JSON.stringify(invocation.selector.toString())}: nothing to check\n`
        : setup.file === undefined
          ? 'no providers found: nothing to check (pass --config FILE to name some)\n'
          : `${setup.file}: no providers configured: nothing to check\n`,
    );
    return EXIT_UNHEALTHY;
  }

  // Stop waiting for the sweep at once on Ctrl-C; dispose() aborts the checks it runs.
  const stop = (): void => cache.dispose();
  signal.addEventListener('abort', stop, { once: true });
  const progress = io.stdout.isTTY ? showProgress(cache, io, systemClock) : undefined;
  let statuses: readonly Status[];
  try {
    statuses = await cache.checkNow(signal);
  } finally {
    progress?.dispose();
    signal.removeEventListener('abort', stop);
    cache.dispose();
  }

  const picked = new Set(shown);
  statuses = statuses.filter((status) => picked.has(status.name));
  if (invocation.json) {
    io.stdout.write(`${JSON.stringify(statuses.map(statusToJSON), null, 2)}\n`);
  } else {
    const rows: TableRow[] = shown.map((name) => {
      const status = cache.get(name);
      return status
        ? { name, state: status.state, latency: status.latency, message: status.message }
        : { name, state: 'unknown', latency: undefined, message: 'not checked' };
    });
    const color = io.stdout.isTTY === true && io.env['NO_COLOR'] === undefined && io.env['TERM'] !== 'dumb';
    // A pseudo-terminal without a size reports 0 columns: do not cut lines then.
    const columns = io.stdout.isTTY ? io.stdout.columns : undefined;
    io.stdout.write(
      renderTable(rows, { color, width: columns !== undefined && columns >= 40 ? columns : undefined }),
    );
  }

  const degraded = statuses.filter((status) => status.state === 'degraded');
  for (const status of degraded) {
    io.stderr.write(`warning: ${status.name} is degraded: ${status.message}\n`);
  }
  const healthy = shown.every((name) => cache.get(name)?.healthy === true);
  return healthy ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}

/**
 * The registry to check and the names to show: everything, or what
 * `selector` picks plus (checked, not shown) what that depends on.
 */
function selection(
  setup: Setup,
  selector: Selector | undefined,
): { registry: ProviderRegistry; shown: readonly string[] } {
  if (selector === undefined) return { registry: setup.registry, shown: setup.registry.names() };
  const { providers, picked } = selectProviders(setup.providers, selector);
  const registry = new ProviderRegistry();
  registerAll(registry, providers);
  return { registry, shown: registry.names().filter((name) => picked.has(name)) };
}

/**
 * While the sweep runs longer than {@link PROGRESS_DELAY}, keeps one line on
 * stderr saying which providers it still waits on. Its timers are background
 * ones on `clock` (no keepAlive): the sweep it reports on keeps the process alive.
 */
function showProgress(cache: HealthCache, io: Io, clock: Clock): { dispose(): void } {
  const started = clock.now();
  const names = cache.registry.names();
  const done = new Set<string>();
  const results = cache.onResult(({ name }) => done.add(name));
  let shown = false;
  const draw = (): void => {
    const waiting = names.filter((name) => !done.has(name));
    const list =
      waiting.length > 3
        ? `${waiting.slice(0, 3).join(', ')} and ${waiting.length - 3} more`
        : waiting.join(', ');
    const line = `checking ${names.length} providers: ${done.size} done, waiting on ${list} (${formatLatency(clock.now() - started)})`;
    const width = io.stderr.columns !== undefined && io.stderr.columns >= 40 ? io.stderr.columns : 80;
    io.stderr.write(`\r\u001b[K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
    shown = true;
  };
  const stop = new AbortController();
  const ticking = async (): Promise<void> => {
    await sleep(clock, PROGRESS_DELAY, stop.signal);
    for (;;) {
      draw();
      await sleep(clock, PROGRESS_INTERVAL, stop.signal);
    }
  };
  // It ends only by dispose()'s abort: that rejection is the expected end.
  ticking().catch(() => undefined);
  return {
    dispose() {
      stop.abort();
      results.dispose();
      if (shown) io.stderr.write('\r\u001b[K');
    },
  };
}
