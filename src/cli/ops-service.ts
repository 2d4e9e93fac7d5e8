/**
 * What `serve` adds for running under an orchestrator: the probe, status and
 * reload endpoints of the handler, reloading on SIGHUP, and the role lines
 * of shared mode. See the README, "Running under an orchestrator".
 */
import { toDisposable, type Disposable } from '../index.js';
import type { HealthHandlerOptions } from '../http/options.js';
import type { Io } from './io.js';
import type { Logger } from './logger.js';
import { Reloader } from './ops-reloader.js';
import { logRoles } from './ops-role-log.js';
import type { Setup } from './setup.js';
import type { ServedView } from './view.js';

/** Where SIGHUP comes from: the process, or a stand-in in tests. */
export interface SignalSource {
  on(signal: 'SIGHUP', listener: () => void): unknown;
  off(signal: 'SIGHUP', listener: () => void): unknown;
}

/** The parts started by {@link startOperations}; dispose to stop listening for SIGHUP and roles. */
export interface Operations extends Disposable {
  /** Spread into the handler's options: `/livez`, `/readyz`, `/api/status` and `POST /api/reload`. */
  readonly handlerOptions: Pick<HealthHandlerOptions, 'probes' | 'status' | 'reload'>;
}

/**
 * Starts reloading on SIGHUP (re-reading the file `serve` started with, or
 * discovering again without one) and logging role changes in shared mode.
 * `stop` aborts a reload in progress when the service stops.
 */
export function startOperations(
  setup: Setup,
  view: ServedView,
  io: Pick<Io, 'env' | 'cwd'>,
  log: Logger,
  stop: AbortSignal,
  signals: SignalSource = process,
): Operations {
  const reloader = new Reloader(setup, io, log, stop);
  // Node ends the process on SIGHUP unless somebody listens: from here on, it reloads.
  const onHangup = (): void => void reloader.reload('SIGHUP');
  signals.on('SIGHUP', onHangup);
  const roles = logRoles(view, log);
  const release = toDisposable(() => {
    signals.off('SIGHUP', onHangup);
    roles.dispose();
  });
  return {
    handlerOptions: { probes: true, status: true, reload: () => reloader.reload('POST /api/reload') },
    ...release,
  };
}
