import type { Disposable } from '../disposable.js';
import type { HealthEvent } from '../events.js';
import type { HealthView } from '../health-view.js';

/**
 * A role change as a shared cache reports it (`provider-health/redis`'s
 * `RoleChange`), read structurally so that this module does not import the
 * Redis code: `leader` (who leads, while following) and `share` (how many
 * providers this replica polls, when sharded) are read when present.
 * @internal
 */
export interface RoleNews {
  readonly role: string;
  readonly previous: string;
  readonly reason?: string | undefined;
  readonly leader?: string | undefined;
  readonly share?: number | undefined;
}

/**
 * What the probes read of a view besides {@link HealthView}; every part is
 * optional, so any view works. `HealthCache` has `running`; `SharedHealthCache`
 * has the rest. @internal
 */
export interface ProbedView extends HealthView {
  /** Whether `run` is active. */
  readonly running?: boolean | undefined;
  readonly onCheckerFault?: HealthEvent<unknown>;
  readonly onRoleChange?: HealthEvent<RoleNews>;
  /** The shared cache's role now (`leader`, `follower`, `local`, `connecting`, `idle`). */
  readonly role?: string | undefined;
  /** When the shared cache last finished a lease round (its clock's ms). */
  readonly lastRoundAt?: number | undefined;
  /** The shared cache's Redis options. */
  readonly sharing?: { readonly replicaId: string; readonly leaseTtl: number } | undefined;
  /** What the shared cache says of this replica (`SharedHealthCache.replica`), read structurally. */
  readonly replica?:
    | {
        readonly mode: string;
        readonly leader: string | undefined;
        readonly share: { readonly size: number; readonly total: number } | undefined;
        readonly members: readonly string[] | undefined;
      }
    | undefined;
}

/** The answer of one probe: `ok`, or why not. @internal */
export interface ProbeAnswer {
  readonly ok: boolean;
  /** A short reason, in a few words; also given when `ok`. */
  readonly reason: string;
}

/** Roles of a shared cache in which this replica runs sweeps itself. */
const POLLING_ROLES: ReadonlySet<string> = new Set(['leader', 'local']);
/** Roles before the stored statuses are loaded. */
const UNLOADED_ROLES: ReadonlySet<string> = new Set(['idle', 'connecting']);

/**
 * Watches a view for signs that its loop is alive and that it has something
 * to serve, for `GET /livez` and `GET /readyz`. Both answers are computed on
 * demand from a few numbers (no body rebuilt, nothing started or changed).
 *
 * Live: `run` is active and the loop showed a sign of life (a sweep ended,
 * a check finished or faulted, the role changed, the handler was created)
 * within 2 × `pollInterval` + `checkTimeout`. A sweep in progress yields a
 * result at least every `checkTimeout` (checks are cut off there), and
 * sweeps are `pollInterval` apart, so a working loop never misses the bound.
 * In shared mode the lease loop must have finished a round within
 * 3 × `leaseTtl` (a round takes at most `leaseTtl` plus a few bounded Redis
 * calls); the sweep rule then applies only while this replica polls itself
 * (leading, or alone), counted from when it started polling.
 *
 * Ready: the first full sweep has finished or, in shared mode, the stored
 * statuses are loaded (the replica has led or followed once). It stays
 * ready afterwards: statuses age into `stale`, they do not vanish.
 * @internal
 */
export class ProbeTracker implements Disposable {
  readonly #view: ProbedView;
  readonly #subscriptions: Disposable[] = [];
  /** When the loop last showed a sign of life (the clock's ms). */
  #lastSign: number;
  /** When this replica began to poll (creation for a local cache). */
  #pollingSince: number;
  /** When the role last changed (creation before any change): a lease round had just ended. */
  #roleChangedAt: number;
  #ready = false;
  #role: string | undefined;
  #leader: string | undefined;
  #share: number | undefined;

  constructor(view: ProbedView) {
    this.#view = view;
    const now = this.#now();
    this.#lastSign = now;
    this.#pollingSince = now;
    this.#roleChangedAt = now;
    this.#role = view.role;
    const sign = (): void => {
      this.#lastSign = this.#now();
    };
    this.#subscriptions.push(
      view.onSweep(({ full }) => {
        sign();
        if (full) this.#ready = true;
      }),
      view.onResult(sign),
    );
    if (view.onCheckerFault) this.#subscriptions.push(view.onCheckerFault(sign));
    if (view.onRoleChange) this.#subscriptions.push(view.onRoleChange((change) => this.#roleChanged(change)));
  }

  /** The role last reported by a shared cache; `undefined` for a local one. */
  get role(): string | undefined {
    return this.#role;
  }

  /** The leader's replica id, when known (this replica's own while it leads). */
  get leader(): string | undefined {
    if (this.#role === 'leader') return this.#view.sharing?.replicaId;
    return this.#role === 'follower' ? this.#leader : undefined;
  }

  /** How many providers this replica polls, when the shared cache reports a share (sharded mode). */
  get share(): number | undefined {
    return this.#share;
  }

  /** `GET /livez`. */
  live(): ProbeAnswer {
    const view = this.#view;
    if (view.running === false) return { ok: false, reason: 'the poller is not running' };
    const now = this.#now();
    const { pollInterval, checkTimeout } = view.options;
    const sharing = view.sharing;
    if (sharing !== undefined) {
      const roundBound = 3 * sharing.leaseTtl;
      const round = Math.max(view.lastRoundAt ?? -Infinity, this.#roleChangedAt);
      // A cache that does not report its rounds is judged by its sweeps alone.
      if ('lastRoundAt' in view && now - round > roundBound) {
        return { ok: false, reason: `no lease round for ${now - round} ms (bound ${roundBound} ms)` };
      }
      if (this.#role === undefined || !POLLING_ROLES.has(this.#role)) {
        return { ok: true, reason: `the lease loop is running (${this.#role ?? 'starting'})` };
      }
    }
    const bound = 2 * pollInterval + checkTimeout;
    const quiet = now - Math.max(this.#lastSign, this.#pollingSince);
    if (quiet > bound) {
      return { ok: false, reason: `no sweep or check for ${quiet} ms (bound ${bound} ms)` };
    }
    return { ok: true, reason: 'the poller is running' };
  }

  /** `GET /readyz`. */
  ready(): ProbeAnswer {
    if (this.#ready) return { ok: true, reason: 'statuses are loaded' };
    return {
      ok: false,
      reason:
        this.#view.sharing === undefined
          ? 'the first sweep has not finished'
          : 'the stored statuses are not loaded yet',
    };
  }

  dispose(): void {
    for (const subscription of this.#subscriptions.splice(0)) subscription.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #roleChanged(change: RoleNews): void {
    const now = this.#now();
    this.#lastSign = now;
    this.#roleChangedAt = now;
    this.#role = change.role;
    this.#leader = change.leader;
    if (typeof change.share === 'number') this.#share = change.share;
    // Sweeps are owed only from when this replica began to poll.
    if (POLLING_ROLES.has(change.role) && !POLLING_ROLES.has(change.previous)) this.#pollingSince = now;
    // Leading or following comes after the warm start has loaded what Redis holds.
    if (!UNLOADED_ROLES.has(change.role) && change.role !== 'local') this.#ready = true;
  }

  #now(): number {
    return this.#view.options.clock.now();
  }
}
