/**
 * Reloads of a running `serve` (SIGHUP, `POST /api/reload`): one at a time,
 * each logged with what it changed, or with the config's errors while the
 * running config stays.
 */
import type { ReloadOutcome, ReloadReport } from '../http/reload-route.js';
import { ConfigError } from './config.js';
import type { Io } from './io.js';
import type { Logger } from './logger.js';
import {
  applyPlan,
  installationAfter,
  installationOf,
  planReload,
  reportOf,
  settingsNeedingRestart,
  type Installation,
} from './reload.js';
import { prepare, type Setup } from './setup.js';

/** How many names a log line lists per group before `… and N more`. */
const NAMES_PER_LINE = 20;

/**
 * Re-reads the config `serve` started with and applies its providers to the
 * running registry. Reloads are serialised: one runs at a time, and a
 * request made while another waits to start joins it (it reads the file
 * after both were asked for).
 */
export class Reloader {
  readonly #setup: Setup;
  readonly #io: Pick<Io, 'env' | 'cwd'>;
  readonly #log: Logger;
  readonly #stop: AbortSignal;
  #installation: Installation;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting: Promise<ReloadOutcome> | undefined;

  /**
   * @param setup What `serve` started with: its file is re-read, its registry changed.
   * @param stop Aborts a reload in progress (the service is stopping); nothing is applied then.
   */
  constructor(setup: Setup, io: Pick<Io, 'env' | 'cwd'>, log: Logger, stop: AbortSignal) {
    this.#setup = setup;
    this.#io = io;
    this.#log = log;
    this.#stop = stop;
    this.#installation = installationOf(setup);
  }

  /** Reloads now, or after the reload in progress; `trigger` names the cause in the log (`SIGHUP`). */
  reload(trigger: string): Promise<ReloadOutcome> {
    if (this.#waiting) return this.#waiting;
    const run = this.#tail.then(() => {
      this.#waiting = undefined;
      return this.#run(trigger);
    });
    this.#waiting = run;
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #run(trigger: string): Promise<ReloadOutcome> {
    const stopping: ReloadOutcome = { ok: false, errors: ['the service is stopping'] };
    if (this.#stop.aborted) return stopping;
    let next: Setup;
    try {
      next = await prepare(this.#setup.file, this.#io, this.#stop);
    } catch (error) {
      if (this.#stop.aborted) return stopping;
      return this.#refused(trigger, problemsOf(error));
    }
    if (this.#stop.aborted) return stopping;
    const upcoming = installationOf(next);
    const plan = planReload(this.#installation, upcoming);
    try {
      applyPlan(this.#setup.registry, plan);
    } catch (error) {
      // The trial run refuses what the registry would have refused halfway: nothing was changed.
      return this.#refused(trigger, problemsOf(error));
    }
    this.#installation = installationAfter(plan, this.#installation, upcoming);
    // Against the file `serve` started with: those settings are still the ones running.
    const report = reportOf(plan, settingsNeedingRestart(this.#setup.config, next.config));
    this.#logReport(trigger, report);
    return { ok: true, report };
  }

  #refused(trigger: string, errors: readonly string[]): ReloadOutcome {
    const count = `${errors.length} problem${errors.length === 1 ? '' : 's'}`;
    this.#log.error(`reload (${trigger}) refused, the running config stays: ${count}`, {
      reload: trigger,
      problems: errors.length,
    });
    for (const line of errors) this.#log.error(`reload: ${line}`, { reload: trigger });
    return { ok: false, errors };
  }

  #logReport(trigger: string, report: ReloadReport): void {
    const fields = {
      reload: trigger,
      added: report.added.length,
      removed: report.removed.length,
      changed: report.changed.length,
      unchanged: report.unchanged.length,
    };
    const parts = [
      group('added', report.added),
      group('removed', report.removed),
      group('changed', report.changed),
    ].filter((part) => part !== '');
    const unchanged = `${report.unchanged.length} unchanged`;
    const summary =
      parts.length === 0 ? `no provider changed (${unchanged})` : [...parts, unchanged].join(', ');
    this.#log.info(`reload (${trigger}): ${summary}`, fields);
    for (const { from, to } of report.renamed) {
      this.#log.info(
        `reload (${trigger}): ${from} renamed to ${to}: ${from} was removed with its history, ${to} added`,
        { reload: trigger, renamedFrom: from, renamedTo: to },
      );
    }
    if (report.notApplied.length > 0) {
      this.#log.warn(
        `reload (${trigger}): ${report.notApplied.join(', ')} changed in the file but apply only after a restart; the running values stay`,
        { reload: trigger, notApplied: report.notApplied.join(',') },
      );
    }
  }
}

/** `added 2 (db, web)`, `''` for an empty group; long lists are cut. */
function group(label: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, NAMES_PER_LINE).join(', ');
  const more = names.length > NAMES_PER_LINE ? ` and ${names.length - NAMES_PER_LINE} more` : '';
  return `${names.length} ${label} (${shown}${more})`;
}

/** The config's problems, one line each (file and line first), or what else went wrong. */
function problemsOf(error: unknown): string[] {
  if (error instanceof ConfigError) return error.message.split('\n').filter((line) => line.trim() !== '');
  const message = error instanceof Error ? error.message : String(error);
  return [`cannot apply the config: ${message}`];
}
