import { linkAbort } from '../async.js';
import type { Clock } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { AlreadyRunningError, DisposedError } from '../errors.js';
import { Emitter, type HealthEvent } from '../events.js';
import type { CheckResult, Removal, StatusChange, SweepSummary, Transition } from '../health-cache.js';
import type { HealthView } from '../health-view.js';
import type { HistorySample } from '../history.js';
import { resolveOptions, type ResolvedHealthCacheOptions } from '../options.js';
import { reportListenerError, type ProviderRegistry } from '../registry.js';
import type { Status } from '../status.js';
import { openConnections, type Connections } from './connection.js';
import type { LeaseRepair, ReplicaRole, RoleChange } from './events.js';
import { sharedKeys, type SharedKeys } from './keys.js';
import { Lease } from './lease.js';
import { LocalView } from './local-view.js';
import { Mirror } from './mirror.js';
import {
  coreOptions,
  resolveSharedOptions,
  type ResolvedSharedOptions,
  type SharedHealthCacheOptions,
} from './options.js';
import { RefreshChannel } from './refresh.js';
import { ReplicaRoles, type RoleActions } from './role.js';
import { Pause, watchConnections, whenReady, type ConnectionHandlers } from './session.js';
import { StatusStore } from './store.js';
import { RedisTrouble } from './trouble.js';
import { StatusWriter } from './writer.js';

/** What a `run` holds while active. */
interface Session {
  readonly lease: Lease;
  readonly store: StatusStore;
  readonly refresh: RefreshChannel;
  readonly signal: AbortSignal;
}

/**
 * A {@link HealthView} shared by several replicas through Redis: one replica
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
export class SharedHealthCache implements HealthView, Disposable {
  readonly #registry: ProviderRegistry;
  readonly #view: LocalView;
  readonly #shared: ResolvedSharedOptions;
  readonly #keys: SharedKeys;
  readonly #clock: Clock;
  readonly #trouble: RedisTrouble;
  readonly #roles: ReplicaRoles;
  readonly #writer: StatusWriter;
  readonly #mirror: Mirror;
  readonly #pause: Pause;
  #session: Session | undefined;
  #active = false;
  readonly #disposed = new AbortController();

  readonly #listenerErrors = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  readonly #roleChanges = new Emitter<RoleChange>((error) => this.#listenerFailed(error));
  readonly #redisErrors = new Emitter<Error>((error) => this.#listenerFailed(error));
  readonly #leaseRepairs = new Emitter<LeaseRepair>((error) => this.#listenerFailed(error));

  /** Each change of role (leader, follower, local polling ...). */
  readonly onRoleChange: HealthEvent<RoleChange> = this.#roleChanges.event;
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

  /**
   * @param registry The providers to watch; every replica should register the same ones.
   * @param options See {@link SharedHealthCacheOptions}; validated here.
   * @throws OptionTypeError or OptionRangeError naming a bad option (never quoting the Redis URL).
   */
  constructor(registry: ProviderRegistry, options: SharedHealthCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        'SharedHealthCache needs options with at least `redis` (a redis:// URL or an ioredis client)',
      );
    }
    const core = coreOptions(options);
    const resolved = resolveOptions(core);
    this.#shared = resolveSharedOptions(options, resolved);
    this.#registry = registry;
    this.#view = new LocalView(registry, core, (error) => this.#trouble.report(error));
    const cache = this.#view.cache;
    this.#keys = sharedKeys(this.#shared.key);
    this.#clock = resolved.clock;
    this.#trouble = new RedisTrouble(this.#clock, this.#shared.target.secrets, (error) =>
      this.#redisErrors.emit(error),
    );
    this.#roles = new ReplicaRoles(
      this.#clock,
      this.#shared.leaseTtl,
      resolved.random,
      this.#trouble,
      (change) => this.#roleChanges.emit(change),
    );
    this.#writer = new StatusWriter(this.#clock, this.#trouble);
    this.#mirror = new Mirror(this.#view, this.#clock, { ...this.#shared, ...cache.options }, this.#trouble);
    this.#pause = new Pause(this.#clock);
    ({
      onResult: this.onResult,
      onTransition: this.onTransition,
      onRemove: this.onRemove,
      onChange: this.onChange,
      onSweep: this.onSweep,
    } = cache);
    cache.onListenerError((error) => this.#listenerFailed(error));
    cache.onResult((result) => {
      if (this.#roles.role === 'leader') this.#writer.queue(result.status, this.#sampleOf(result));
    });
    cache.onSweep(() => this.#writer.flushSoon(0));
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

  /** What this replica is doing now. */
  get role(): ReplicaRole {
    return this.#roles.role;
  }

  /** The fencing token of the lease while this replica leads. */
  get leaseToken(): number | undefined {
    return this.#roles.tenure?.token;
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
    let connections: Connections | undefined;
    let unwatch: (() => void) | undefined;
    let session: Session | undefined;
    try {
      this.#roles.set('connecting', 'starting');
      connections = await openConnections(this.#shared, this.#clock, (error) => this.#trouble.failed(error));
      session = this.#open(connections, controller.signal);
      this.#session = session;
      unwatch = watchConnections(connections, this.#keys, this.#handlers(session));
      await whenReady(connections.client, this.#clock, this.#shared.leaseTtl, controller.signal);
      if (!controller.signal.aborted) await this.#participate(session, controller.signal);
    } finally {
      unwatch?.();
      await this.#view.stopPolling();
      if (session) await this.#resign(session);
      this.#session = undefined;
      await connections?.close();
      for (const link of links) link.dispose();
      this.#roles.set('idle', 'stopped');
      this.#active = false;
    }
  }

  /** Stops `run` (releasing the lease) and the local poller. The cache keeps answering reads. */
  dispose(): void {
    if (this.#disposed.signal.aborted) return;
    this.#disposed.abort(new DisposedError('SharedHealthCache.dispose'));
    this.#view.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #open(connections: Connections, signal: AbortSignal): Session {
    const { client } = connections;
    const limit = { clock: this.#clock, timeout: this.#shared.commandTimeout };
    const cache = this.#view.cache;
    const target = {
      onResult: cache.onResult,
      names: () => this.#registry.names(),
      has: (name: string) => this.#registry.has(name),
      checkNow: () => cache.checkNow(),
      checkProvider: (name: string) => cache.checkProvider(name),
    };
    return {
      lease: new Lease(client, this.#keys, this.#shared.replicaId, this.#shared.leaseTtl, limit),
      store: new StatusStore(client, this.#keys, limit),
      refresh: new RefreshChannel(client, this.#keys.refresh, target, limit, this.#trouble),
      signal,
    };
  }

  /** Warm start (serve the last known statuses before anything else), then one lease round after another. */
  async #participate(session: Session, signal: AbortSignal): Promise<void> {
    await this.#load(session);
    const actions = this.#actions(session);
    while (!signal.aborted) {
      const delay = await this.#roles.step(session.lease, actions);
      // A follower's cache has no poller of its own to mark statuses stale on time.
      this.#view.cache.snapshot();
      await this.#pause.wait(delay, signal);
    }
  }

  #actions(session: Session): RoleActions {
    return {
      lead: async () => {
        this.#writer.start({
          store: session.store,
          current: () => this.#roles.writable(),
          fenced: () => this.#pause.wake(),
        });
        // Share what we know where Redis holds nothing (a Redis that restarted empty).
        for (const status of this.#view.cache.snapshot()) this.#writer.fill(status, this.#lastSample(status));
        await this.#view.startPolling();
      },
      follow: async () => {
        this.#writer.stop();
        await this.#view.stopPolling();
        // Updates were ignored while leading or polling alone, and may have been missed while connecting.
        await this.#load(session);
      },
      goLocal: async () => {
        this.#writer.stop();
        await this.#view.startPolling();
      },
      followerRound: () => this.#load(session),
      repaired: (kinds) => {
        for (const kind of kinds) {
          const key = kind === 'token-not-a-number' ? this.#keys.token : this.#keys.lease;
          this.#leaseRepairs.emit(Object.freeze({ kind, key }));
        }
      },
    };
  }

  #handlers(session: Session): ConnectionHandlers {
    return {
      // The leader has these results already, from its own checks.
      update: (message) => {
        if (this.#roles.role !== 'leader') this.#mirror.applyUpdate(message);
      },
      refresh: (message) => {
        if (this.#roles.role === 'leader') session.refresh.handle(message);
      },
      closed: () => {
        this.#trouble.disconnected();
        // Redis may come back holding anything, even nothing: only what is read after counts as deleted.
        this.#mirror.reset();
        this.#pause.wake();
      },
      ready: () => this.#pause.wake(),
      resubscribed: () => {
        if (this.#roles.role === 'follower') void this.#load(session);
      },
      failed: (error) => {
        if (!session.signal.aborted) this.#trouble.report(error);
      },
    };
  }

  /** Loads the stored records of our providers (and notices deleted ones). Failures are reported, not thrown. */
  async #load(session: Session): Promise<void> {
    try {
      const loaded = await session.store.load(this.#registry.names());
      this.#trouble.answered();
      this.#mirror.applyLoad(loaded);
    } catch (error) {
      this.#trouble.failed(error);
    }
  }

  /** On the way out: writes the last results and releases the lease so a follower takes over at once. */
  async #resign(session: Session): Promise<void> {
    if (this.#roles.role === 'leader') await this.#writer.flush();
    this.#writer.stop();
    await this.#roles.resign(session.lease);
  }

  /** A follower's refresh, forwarded to the leader; `false` when this replica should check locally. */
  async #forward(names: readonly string[] | null, signal: AbortSignal | undefined): Promise<boolean> {
    const session = this.#session;
    if (this.#roles.role !== 'follower' || session === undefined || this.#disposed.signal.aborted)
      return false;
    signal?.throwIfAborted();
    // A live leader answers well within this; a dead one is replaced within the lease TTL.
    const patience = Math.max(this.options.pollInterval, this.#shared.leaseTtl);
    return await session.refresh.forward(names, patience, signal);
  }

  /** The raw result behind a check's status, for the followers' history. */
  #sampleOf(result: CheckResult): HistorySample['state'] {
    // Carried by the result itself once the core provides it; until then read from the history.
    const carried = (result as { readonly sample?: HistorySample }).sample;
    return carried?.state ?? this.#lastSample(result.status);
  }

  #lastSample(status: Status): HistorySample['state'] {
    const last = this.#view.cache.history(status.name).at(-1);
    if (last && last.checkedAt.getTime() === status.checkedAt.getTime()) return last.state;
    if (status.consecutiveFailures > 0) return 'unhealthy';
    return status.state === 'degraded' ? 'degraded' : 'healthy';
  }

  #listenerFailed(error: unknown): void {
    if (this.#listenerErrors.size > 0) this.#listenerErrors.emit(error);
    else reportListenerError('SharedHealthCache', error);
  }
}
