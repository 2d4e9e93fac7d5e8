import { linkAbort } from '../async.js';
import type { Disposable } from '../disposable.js';
import { AlreadyRunningError, DisposedError, OptionTypeError } from '../errors.js';
import { Emitter, type HealthEvent } from '../events.js';
import type {
  CheckerFault,
  CheckResult,
  Removal,
  StatusChange,
  SweepSummary,
  Transition,
} from '../events.js';
import type { RunnableHealthView } from '../health-view.js';
import type { HistorySample } from '../history.js';
import { resolveOptions, type ResolvedHealthCacheOptions } from '../options.js';
import { reportListenerError, type ProviderRegistry } from '../registry.js';
import type { SilenceControl } from '../quiet/silence-control.js';
import type { Status } from '../status.js';
import type { WindowSummary, WindowUptimes } from '../uptime-windows.js';
import { scrubError } from './connection.js';
import type { LeaseRepair, ReplicaDescription, ReplicaRole, RoleChange, ShareChange } from './events.js';
import { sharedKeys } from './keys.js';
import { LocalView } from './local-view.js';
import {
  coreOptions,
  resolveSharedOptions,
  type ResolvedSharedOptions,
  type SharedHealthCacheOptions,
} from './options.js';
import { Replica } from './replica.js';
import { createSilenceSharing, type SilenceSharing } from './silence-sharing.js';

/**
 * A {@link RunnableHealthView} shared by several replicas through Redis: one replica
 * (the holder of a lease) polls the providers and writes each status to a
 * Redis hash; the others mirror it. Every replica answers reads from its own
 * memory, in O(1), exactly like `HealthCache`.
 *
 * ```ts
 * const cache = new SharedHealthCache(registry, { redis: 'redis://127.0.0.1:6379', pollInterval: 30_000 });
 * void cache.run(stop.signal);
 * cache.get('docker');
 * ```
 */
export class SharedHealthCache implements RunnableHealthView, Disposable {
  readonly #registry: ProviderRegistry;
  readonly #view: LocalView;
  readonly #shared: ResolvedSharedOptions;
  readonly #replica: Replica;
  readonly #silences: SilenceSharing | undefined;
  #active = false;
  readonly #disposed = new AbortController();

  readonly #listenerErrors = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  readonly #roleChanges = new Emitter<RoleChange>((error) => this.#listenerFailed(error));
  readonly #redisErrors = new Emitter<Error>((error) => this.#listenerFailed(error));
  readonly #leaseRepairs = new Emitter<LeaseRepair>((error) => this.#listenerFailed(error));

  /** Each change of role (leader, follower, local polling ...). */
  readonly onRoleChange: HealthEvent<RoleChange> = this.#roleChanges.event;
  readonly #shareChanges = new Emitter<ShareChange>((error) => this.#listenerFailed(error));
  /** With `shards`: each change of this replica's share (members joining or leaving, providers registered). */
  readonly onShareChange: HealthEvent<ShareChange> = this.#shareChanges.event;
  /**
   * Redis trouble, scrubbed of credentials: connection errors and failed
   * calls (each distinct message once until Redis answers again), and
   * ignored records (a `BadRecordError`, once until that record is good again or gone).
   */
  readonly onRedisError: HealthEvent<Error> = this.#redisErrors.event;
  /** Garbage in the lease keys that this replica repaired (it would have stopped or split polling). */
  readonly onLeaseRepair: HealthEvent<LeaseRepair> = this.#leaseRepairs.event;
  /** Errors thrown by listeners of any event; without a subscriber they become process warnings. */
  readonly onListenerError: HealthEvent<unknown> = this.#listenerErrors.event;
  /** Every result: this replica's own checks and those mirrored from the leader. */
  readonly onResult: HealthEvent<CheckResult>;
  /** State changes, including the first out of `unknown` and into `stale`. */
  readonly onTransition: HealthEvent<Transition>;
  /** Providers dropped: unregistered here, or their record deleted from Redis. */
  readonly onRemove: HealthEvent<Removal>;
  /** Anything that changed what `get`/`snapshot` return. */
  readonly onChange: HealthEvent<StatusChange>;
  /** Each sweep this replica ran itself (while leading or polling alone). */
  readonly onSweep: HealthEvent<SweepSummary>;
  /** This replica's own checks that failed because of this service (out of file descriptors), not the provider. */
  readonly onCheckerFault: HealthEvent<CheckerFault>;

  /**
   * @param registry The providers to watch; every replica should register the same ones.
   * @param options See {@link SharedHealthCacheOptions}; validated here.
   * @throws OptionTypeError or OptionRangeError naming a bad option (never quoting the Redis URL).
   */
  constructor(registry: ProviderRegistry, options: SharedHealthCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new OptionTypeError(
        'SharedHealthCache needs options with at least `redis` (a redis:// URL or an ioredis client)',
        { option: 'redis', value: undefined, secret: true },
      );
    }
    const core = coreOptions(options);
    const resolved = resolveOptions(core);
    this.#shared = resolveSharedOptions(options, resolved);
    this.#registry = registry;
    const keys = sharedKeys(this.#shared.key);
    const secrets = this.#shared.target.secrets;
    const silences = createSilenceSharing(options, {
      clock: resolved.clock,
      keys,
      commandTimeout: this.#shared.commandTimeout,
      report: (error) => this.#replica.report(error),
      badRecord: (error) => this.#redisErrors.emit(error),
      scrub: (error) => scrubError(error, secrets),
    });
    this.#silences = silences;
    const local = silences === undefined ? core : { ...core, silences: silences.source };
    this.#view = new LocalView(registry, local, (error) => this.#replica.report(error));
    const cache = this.#view.cache;
    this.#replica = new Replica({
      registry,
      view: this.#view,
      shared: this.#shared,
      keys,
      clock: resolved.clock,
      random: resolved.random,
      roleChanged: (change) => this.#roleChanges.emit(change),
      shareChanged: (change) => this.#shareChanges.emit(change),
      redisError: (error) => this.#redisErrors.emit(error),
      leaseRepaired: (repair) => this.#leaseRepairs.emit(repair),
      connected: silences && ((client) => silences.control.attach(client)),
    });
    // The local cache's own events are this cache's: handed out as they are, not forwarded.
    ({
      onResult: this.onResult,
      onTransition: this.onTransition,
      onRemove: this.onRemove,
      onChange: this.onChange,
      onSweep: this.onSweep,
      onCheckerFault: this.onCheckerFault,
    } = cache);
    cache.onListenerError((error) => this.#listenerFailed(error));
    silences?.follow(this);
  }

  /** The registry this cache follows. */
  get registry(): ProviderRegistry {
    return this.#registry;
  }

  /** The cache options in force, with defaults applied. */
  get options(): ResolvedHealthCacheOptions {
    return this.#view.cache.options;
  }

  /** The Redis options in force (the URL itself is not exposed). */
  get sharing(): {
    readonly key: string;
    readonly leaseTtl: number;
    readonly replicaId: string;
    readonly commandTimeout: number;
  } {
    const { key, leaseTtl, replicaId, commandTimeout } = this.#shared;
    return { key, leaseTtl, replicaId, commandTimeout };
  }

  /**
   * The silences shared by every replica through Redis, with `sharedSilences`
   * (for the HTTP API's `/api/silences`); `undefined` without. Reads answer
   * from this replica's copy; `add` and `expire` need `run` to be active
   * (connected to Redis) and reject otherwise.
   */
  get silences(): SilenceControl | undefined {
    return this.#silences?.control;
  }

  /** This replica for an API or status page: id, role, mode, token, leader, share and members. */
  get replica(): ReplicaDescription {
    return this.#replica.describe();
  }

  /** What this replica is doing now. */
  get role(): ReplicaRole {
    return this.#replica.roles.role;
  }

  /** The fencing token of the lease while this replica leads. */
  get leaseToken(): number | undefined {
    return this.#replica.roles.tenure?.token;
  }

  /**
   * When this replica last finished a lease round (the clock's ms; `undefined`
   * before the first). Rounds are at most about `leaseTtl` apart while `run`
   * is active, leading or following: what a liveness probe reads.
   */
  get lastRoundAt(): number | undefined {
    return this.#replica.lastRoundAt;
  }

  /** Whether `run` is active. */
  get running(): boolean {
    return this.#active;
  }

  /** Timed-out calls of this replica's own checks that have not settled yet. */
  get abandonedChecks(): number {
    return this.#view.cache.abandonedChecks;
  }

  /** Every call of this replica's own checks given up on at its timeout. */
  get abandonedChecksTotal(): number {
    return this.#view.cache.abandonedChecksTotal;
  }

  /** The last status of `name`, whoever checked it; `undefined` until known. A Map lookup. */
  get(name: string): Status | undefined {
    return this.#view.cache.get(name);
  }

  /** Every known status, sorted by name; the same frozen array until something changes. */
  snapshot(): readonly Status[] {
    return this.#view.cache.snapshot();
  }

  /** Recent results of `name` seen by this replica, oldest first. */
  history(name: string): readonly HistorySample[] {
    return this.#view.cache.history(name);
  }

  /** Uptime and latency of `name` over 24 h, 7 d and 30 d, from the results this replica has seen. */
  windows(name: string): WindowSummary | undefined {
    return this.#view.cache.windows(name);
  }

  /** See `HealthCache.uptimes`. */
  uptimes(name: string): WindowUptimes | undefined {
    return this.#view.cache.uptimes(name);
  }

  /**
   * Checks every provider now. A follower asks the leader (so the providers
   * are still called once, not once per replica) and waits for the results,
   * up to `pollInterval` or `leaseTtl`, whichever is longer; if none come, it checks locally.
   */
  async checkNow(signal?: AbortSignal): Promise<readonly Status[]> {
    if (await this.#forward(null, signal)) return this.snapshot();
    return await this.#view.cache.checkNow(signal);
  }

  /** Checks one provider now; forwarded to the leader like {@link SharedHealthCache.checkNow}. */
  async checkProvider(name: string, signal?: AbortSignal): Promise<Status | undefined> {
    // An unknown name is never forwarded: the local cache rejects it.
    if (this.#registry.has(name) && (await this.#forward([name], signal))) return this.get(name);
    return await this.#view.cache.checkProvider(name, signal);
  }

  /**
   * Connects to Redis and takes part until `signal` aborts (or the cache is
   * disposed): loads the stored statuses at once, then leads or follows.
   * Resolves after the abort, once the lease is released, polling has
   * stopped and the connections it opened are closed. Redis outages never
   * reject it. Start it in the background: `void cache.run(signal)`.
   * @throws AlreadyRunningError when another `run` is active; DisposedError after `dispose()`;
   *   an Error saying what to install when ioredis is not installed.
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.#active) throw new AlreadyRunningError('SharedHealthCache');
    if (this.#disposed.signal.aborted) throw new DisposedError('SharedHealthCache.run');
    if (signal?.aborted) return;
    this.#active = true;
    const controller = new AbortController();
    const links = [linkAbort(this.#disposed.signal, controller)];
    if (signal) links.push(linkAbort(signal, controller));
    try {
      await this.#replica.run(controller.signal);
    } finally {
      for (const link of links) link.dispose();
      this.#active = false;
    }
  }

  /** Stops `run` (releasing the lease) and the local poller. The cache keeps answering reads. */
  dispose(): void {
    if (this.#disposed.signal.aborted) return;
    this.#disposed.abort(new DisposedError('SharedHealthCache.dispose'));
    this.#view.dispose();
    this.#silences?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A follower's refresh, forwarded to the leader; `false` when this replica should check locally. */
  async #forward(names: readonly string[] | null, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#disposed.signal.aborted) return false;
    return await this.#replica.forward(names, signal);
  }

  #listenerFailed(error: unknown): void {
    if (this.#listenerErrors.size > 0) this.#listenerErrors.emit(error);
    else reportListenerError('SharedHealthCache', error);
  }
}
