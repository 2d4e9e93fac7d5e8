import type { Clock, TimerHandle } from '../clock.js';
import type { Disposable } from '../disposable.js';
import { Emitter, type HealthEvent } from '../events.js';
import {
  HealthCache,
  type CheckResult,
  type Removal,
  type StatusChange,
  type SweepSummary,
  type Transition,
} from '../health-cache.js';
import type { HealthView } from '../health-view.js';
import type { HistorySample } from '../history.js';
import { resolveOptions, type ResolvedHealthCacheOptions } from '../options.js';
import { assertProviderName, reportListenerError, type ProviderRegistry } from '../registry.js';
import type { Status } from '../status.js';
import { decodeStatus, encodeStatus } from './codec.js';
import { openConnections, scrubError, type Connections } from './connection.js';
import { Lease, sharedKeys, type SharedKeys, type Tenure } from './lease.js';
import {
  coreOptions,
  resolveSharedOptions,
  type ResolvedSharedOptions,
  type SharedHealthCacheOptions,
} from './options.js';

/**
 * What a replica is doing. `idle`: `run` is not active. `connecting`: run
 * started, no lease decision yet. `leader`: holds the lease, polls, writes.
 * `follower`: mirrors the leader through Redis. `local`: Redis has been
 * unreachable for longer than the lease, so it polls on its own.
 */
export type ReplicaRole = 'idle' | 'connecting' | 'leader' | 'follower' | 'local';

/** A change of {@link SharedHealthCache.role}, emitted by {@link SharedHealthCache.onRoleChange}. */
export interface RoleChange {
  readonly role: ReplicaRole;
  readonly previous: ReplicaRole;
  /** Why, in a few words. */
  readonly reason: string;
  /** The fencing token of the lease, while `leader`. */
  readonly token: number | undefined;
}

/** What a `run` holds while active. */
interface Session {
  readonly connections: Connections;
  readonly lease: Lease;
  readonly signal: AbortSignal;
}

/** Results are written in batches: those arriving within this window share one write. */
const BATCH_WINDOW = 50;

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
  readonly #inner: HealthCache;
  readonly #shared: ResolvedSharedOptions;
  readonly #keys: SharedKeys;
  readonly #clock: Clock;
  #role: ReplicaRole = 'idle';
  #session: Session | undefined;
  #active = false;
  #tenure: Tenure | undefined;
  /** Our own bound on the lease, measured from before the renewal was sent. */
  #leaseDeadline = 0;
  #redisDownSince: number | undefined;
  /** Messages already reported during the current Redis trouble (cleared when Redis answers). */
  readonly #reported = new Set<string>();
  #polling: { readonly controller: AbortController; readonly done: Promise<void> } | undefined;
  #pollingStopped: Promise<void> = Promise.resolve();
  readonly #pending = new Map<string, Status>();
  #flushTimer: TimerHandle;
  #flushing: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #wakeRequested = false;
  readonly #disposed = new AbortController();

  readonly #roleChanges = new Emitter<RoleChange>((error) => reportListenerError('SharedHealthCache', error));
  readonly #redisErrors = new Emitter<Error>((error) => reportListenerError('SharedHealthCache', error));

  /** Each change of role (leader, follower, local polling ...). */
  readonly onRoleChange: HealthEvent<RoleChange> = this.#roleChanges.event;
  /**
   * Redis trouble: connection errors, failed calls, bad records. Scrubbed of
   * credentials. Each distinct message is reported once until Redis answers again.
   */
  readonly onRedisError: HealthEvent<Error> = this.#redisErrors.event;

  /**
   * @param registry The providers to watch; every replica should register the same ones.
   * @param options See {@link SharedHealthCacheOptions}; validated here.
   * @throws TypeError or RangeError naming a bad option (never quoting the Redis URL).
   */
  constructor(registry: ProviderRegistry, options: SharedHealthCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        'SharedHealthCache needs options with at least `redis` (a redis:// URL or an ioredis client)',
      );
    }
    const core = coreOptions(options);
    this.#shared = resolveSharedOptions(options, resolveOptions(core));
    this.#inner = new HealthCache(registry, core);
    this.#keys = sharedKeys(this.#shared.key);
    this.#clock = this.#inner.options.clock;
    this.#inner.onResult(({ status }) => {
      if (this.#role === 'leader') this.#queueWrite(status);
    });
    this.#inner.onSweep(() => {
      if (this.#pending.size > 0) this.#flushSoon(0);
    });
  }

  /** The registry this cache follows. */
  get registry(): ProviderRegistry {
    return this.#inner.registry;
  }

  /** The cache options in force, with defaults applied. */
  get options(): ResolvedHealthCacheOptions {
    return this.#inner.options;
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
    return this.#role;
  }

  /** The fencing token of the lease while this replica leads. */
  get leaseToken(): number | undefined {
    return this.#tenure?.token;
  }

  /** Whether `run` is active. */
  get running(): boolean {
    return this.#active;
  }

  /** Timed-out calls of this replica's own checks that have not settled yet. */
  get abandonedChecks(): number {
    return this.#inner.abandonedChecks;
  }

  /** Every call of this replica's own checks given up on at its timeout. */
  get abandonedChecksTotal(): number {
    return this.#inner.abandonedChecksTotal;
  }

  /** Every result: this replica's own checks and those mirrored from the leader. */
  get onResult(): HealthEvent<CheckResult> {
    return this.#inner.onResult;
  }

  /** State changes, including the first out of `unknown` and into `stale`. */
  get onTransition(): HealthEvent<Transition> {
    return this.#inner.onTransition;
  }

  /** Providers dropped because they were unregistered here. */
  get onRemove(): HealthEvent<Removal> {
    return this.#inner.onRemove;
  }

  /** Anything that changed what `get`/`snapshot` return. */
  get onChange(): HealthEvent<StatusChange> {
    return this.#inner.onChange;
  }

  /** Each sweep this replica ran itself (while leading or polling alone). */
  get onSweep(): HealthEvent<SweepSummary> {
    return this.#inner.onSweep;
  }

  /** The last status of `name`, whoever checked it; `undefined` until known. A Map lookup. */
  get(name: string): Status | undefined {
    return this.#inner.get(name);
  }

  /** Every known status, sorted by name; the same frozen array until something changes. */
  snapshot(): readonly Status[] {
    return this.#inner.snapshot();
  }

  /** Recent results of `name` seen by this replica, oldest first. */
  history(name: string): readonly HistorySample[] {
    return this.#inner.history(name);
  }

  /**
   * Checks every provider now. A follower asks the leader (so the providers
   * are still called once, not once per replica) and waits for the results,
   * up to `pollInterval` or `leaseTtl`, whichever is longer; if none come, it checks locally.
   */
  async checkNow(signal?: AbortSignal): Promise<readonly Status[]> {
    this.#assertNotDisposed('checkNow');
    signal?.throwIfAborted();
    if (await this.#forward(null, signal)) return this.snapshot();
    return this.#inner.checkNow(signal);
  }

  /** Checks one provider now; forwarded to the leader like {@link SharedHealthCache.checkNow}. */
  async checkProvider(name: string, signal?: AbortSignal): Promise<Status | undefined> {
    this.#assertNotDisposed('checkProvider');
    assertProviderName(name);
    if (!this.registry.has(name)) throw new Error(`No provider named ${JSON.stringify(name)} is registered`);
    signal?.throwIfAborted();
    if (await this.#forward([name], signal)) return this.get(name);
    return this.#inner.checkProvider(name, signal);
  }

  /**
   * Connects to Redis and takes part until `signal` aborts (or the cache is
   * disposed): loads the stored statuses at once, then leads or follows.
   * Resolves after the abort, once the lease is released, polling has
   * stopped and the connections it opened are closed. Redis outages never
   * reject it. Start it in the background: `void cache.run(signal)`.
   * @throws Error when another `run` is active, or when ioredis is not installed.
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.#active)
      throw new Error('SharedHealthCache.run() is already active: abort its signal before starting another');
    this.#assertNotDisposed('run');
    if (signal?.aborted) return;
    this.#active = true;
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    signal?.addEventListener('abort', stop, { once: true });
    this.#disposed.signal.addEventListener('abort', stop, { once: true });
    let connections: Connections | undefined;
    const detach: (() => void)[] = [];
    try {
      this.#setRole('connecting', 'starting');
      connections = await openConnections(this.#shared, (error) => this.#connectionTrouble(error));
      const session: Session = {
        connections,
        lease: new Lease(
          connections.client,
          this.#keys,
          this.#shared.replicaId,
          this.#shared.leaseTtl,
          this.#shared.commandTimeout,
        ),
        signal: controller.signal,
      };
      this.#session = session;
      detach.push(this.#listen(session));
      await whenReady(connections.client, this.#shared.leaseTtl, controller.signal);
      if (controller.signal.aborted) return;
      // Warm start: serve the last known statuses before anything else.
      await this.#load(session);
      while (!controller.signal.aborted) {
        const delay = await this.#step(session);
        // Followers have no poller of their own to mark statuses stale on time.
        this.#inner.snapshot();
        await this.#sleep(delay, controller.signal);
      }
    } finally {
      for (const undo of detach) undo();
      this.#clock.clearTimeout(this.#flushTimer);
      await this.#stopPolling();
      await this.#resign();
      this.#session = undefined;
      await connections?.close();
      signal?.removeEventListener('abort', stop);
      this.#disposed.signal.removeEventListener('abort', stop);
      this.#setRole('idle', 'stopped');
      this.#active = false;
    }
  }

  /** Stops `run` (releasing the lease) and the inner poller. The cache keeps answering reads. */
  dispose(): void {
    if (this.#disposed.signal.aborted) return;
    this.#disposed.abort();
    this.#inner.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #assertNotDisposed(method: string): void {
    if (this.#disposed.signal.aborted)
      throw new Error(`SharedHealthCache.${method}() called after dispose()`);
  }

  // ---- lease and roles ------------------------------------------------------

  /** One round of the lease: renew it, or try to take it. Returns how long to wait before the next. */
  async #step(session: Session): Promise<number> {
    const { leaseTtl } = this.#shared;
    const retry = Math.round(leaseTtl / 6);
    const started = this.#clock.now();
    if (this.#role === 'leader' && this.#tenure) {
      try {
        const renewed = await session.lease.renew(this.#tenure);
        this.#redisAnswered();
        if (renewed) {
          this.#leaseDeadline = started + leaseTtl;
          return leaseTtl / 3;
        }
        await this.#follow(session, 'lost the lease to another replica');
        return 0;
      } catch (error) {
        this.#redisFailed(error);
        if (this.#clock.now() >= this.#leaseDeadline) {
          await this.#goLocal('could not renew the lease before it expired');
        }
        return retry;
      }
    }
    try {
      const attempt = await session.lease.acquire();
      this.#redisAnswered();
      if (attempt.acquired) {
        await this.#lead(attempt.tenure, started);
        return leaseTtl / 3;
      }
      await this.#follow(session, 'another replica holds the lease');
      // Try again when the holder's lease would run out; jitter keeps followers from trying in lockstep.
      const remaining = attempt.remaining >= 0 ? Math.min(attempt.remaining, leaseTtl) : leaseTtl;
      return remaining + 1 + Math.floor(this.#inner.options.random() * 25);
    } catch (error) {
      this.#redisFailed(error);
      const downFor = this.#clock.now() - (this.#redisDownSince ?? started);
      if (this.#role !== 'local' && downFor >= leaseTtl) {
        await this.#goLocal(`Redis unreachable for ${Math.round(downFor)} ms`);
      }
      return retry;
    }
  }

  async #lead(tenure: Tenure, started: number): Promise<void> {
    this.#tenure = tenure;
    this.#leaseDeadline = started + this.#shared.leaseTtl;
    this.#setRole('leader', 'took the lease');
    // Share what we know at once: it refills a Redis that restarted empty and
    // hands over results gathered while polling locally. Older ones are refused by the script.
    for (const status of this.#inner.snapshot()) this.#queueWrite(status);
    this.#flushSoon(0);
    await this.#startPolling();
  }

  async #follow(session: Session, reason: string): Promise<void> {
    if (this.#role === 'follower') return;
    this.#tenure = undefined;
    this.#pending.clear();
    this.#setRole('follower', reason);
    await this.#stopPolling();
    // Updates were ignored while leading or polling alone, and may have been missed while connecting.
    await this.#load(session);
  }

  async #goLocal(reason: string): Promise<void> {
    this.#tenure = undefined;
    this.#pending.clear();
    this.#setRole('local', reason);
    await this.#startPolling();
  }

  /** On the way out: writes the last results and releases the lease so a follower takes over at once. */
  async #resign(): Promise<void> {
    const session = this.#session;
    const tenure = this.#tenure;
    if (session && tenure && this.#role === 'leader') {
      await this.#flush();
      await session.lease.release(tenure).catch((error: unknown) => this.#report(error));
    }
    this.#tenure = undefined;
    this.#pending.clear();
  }

  async #startPolling(): Promise<void> {
    if (this.#polling) return;
    await this.#pollingStopped;
    const controller = new AbortController();
    const done = this.#inner.run(controller.signal).catch((error: unknown) => this.#report(error));
    this.#polling = { controller, done };
  }

  async #stopPolling(): Promise<void> {
    const polling = this.#polling;
    if (polling === undefined) return;
    this.#polling = undefined;
    polling.controller.abort();
    this.#pollingStopped = polling.done;
    await polling.done;
  }

  #setRole(role: ReplicaRole, reason: string): void {
    const previous = this.#role;
    if (previous === role) return;
    this.#role = role;
    this.#roleChanges.emit(Object.freeze({ role, previous, reason, token: this.#tenure?.token }));
  }

  // ---- writing (leader) -----------------------------------------------------

  #queueWrite(status: Status): void {
    // A stale status is this replica's opinion of age, not a result to share.
    if (status.stale) return;
    this.#pending.set(status.name, status);
    this.#flushSoon(BATCH_WINDOW);
  }

  #flushSoon(delay: number): void {
    if (this.#flushTimer !== undefined && delay > 0) return;
    this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, delay);
  }

  /** Writes the pending results; one write at a time, so they reach Redis in order. */
  async #flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    this.#flushing = this.#writePending().finally(() => (this.#flushing = undefined));
    await this.#flushing;
  }

  async #writePending(): Promise<void> {
    const session = this.#session;
    const tenure = this.#tenure;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    // Past our own bound on the lease a successor may lead: not ours to write.
    if (!session || !tenure || this.#role !== 'leader' || this.#clock.now() >= this.#leaseDeadline) return;
    const records = batch.map(
      (status) =>
        [
          status.name,
          status.checkedAt.getTime(),
          encodeStatus(status, tenure.token, this.#sampleOf(status)),
        ] as const,
    );
    try {
      const accepted = await session.lease.write(tenure, records);
      this.#redisAnswered();
      // Refused by the fence: someone else leads. The next lease round steps down.
      if (accepted === undefined) this.#wakeUp();
    } catch (error) {
      this.#redisFailed(error);
      // Kept for the next write, unless a newer result came meanwhile.
      for (const status of batch) if (!this.#pending.has(status.name)) this.#pending.set(status.name, status);
    }
  }

  /** The raw result behind `status`, for the followers' history. */
  #sampleOf(status: Status): HistorySample['state'] {
    const last = this.#inner.history(status.name).at(-1);
    if (last && last.checkedAt.getTime() === status.checkedAt.getTime()) return last.state;
    if (status.consecutiveFailures > 0) return 'unhealthy';
    return status.state === 'degraded' ? 'degraded' : 'healthy';
  }

  // ---- reading (every replica) --------------------------------------------

  /** Loads every stored status; newer than what we hold wins. Failures are reported, not thrown. */
  async #load(session: Session): Promise<void> {
    try {
      const records = await session.lease.load();
      this.#redisAnswered();
      for (const text of Object.values(records)) this.#apply(text);
    } catch (error) {
      this.#redisFailed(error);
    }
  }

  #apply(record: unknown): void {
    let value = record;
    if (typeof record === 'string') {
      try {
        value = JSON.parse(record);
      } catch {
        this.#report(new Error('ignored a status record in Redis that is not JSON'));
        return;
      }
    }
    const decoded = decodeStatus(value);
    if (typeof decoded === 'string') {
      this.#report(new Error(`ignored a status record from Redis: ${decoded}`));
      return;
    }
    this.#inner.restore(decoded.status, decoded.sample);
  }

  #onUpdate(message: string): void {
    // The leader has these results already, from its own checks.
    if (this.#role === 'leader') return;
    let batch: unknown;
    try {
      batch = JSON.parse(message);
    } catch {
      this.#report(new Error('ignored an update from Redis that is not JSON'));
      return;
    }
    if (!Array.isArray(batch)) return;
    for (const record of batch) this.#apply(record);
  }

  #onRefresh(message: string): void {
    if (this.#role !== 'leader') return;
    let names: unknown;
    try {
      names = (JSON.parse(message) as { names?: unknown }).names;
    } catch {
      return;
    }
    if (names === null) {
      this.#inner.checkNow().catch(() => {});
      return;
    }
    if (!Array.isArray(names)) return;
    for (const name of names) {
      if (typeof name === 'string' && this.registry.has(name))
        this.#inner.checkProvider(name).catch(() => {});
    }
  }

  /**
   * A follower's refresh: asks the leader, then waits until every wanted
   * provider has a result newer than the request. `false` when this replica
   * should check locally instead (not following, Redis down, no answer in time).
   */
  async #forward(names: readonly string[] | null, signal: AbortSignal | undefined): Promise<boolean> {
    const session = this.#session;
    if (this.#role !== 'follower' || session === undefined) return false;
    const wanted = new Set(names ?? this.registry.names());
    if (wanted.size === 0) return true;
    const since = this.#clock.now();
    let finish!: (fresh: boolean) => void;
    const fresh = new Promise<boolean>((resolve) => {
      const subscription = this.#inner.onResult(({ name, status }) => {
        if (status.checkedAt.getTime() >= since) wanted.delete(name);
        if (wanted.size === 0) finish(true);
      });
      // A live leader answers well within this; a dead one is replaced within the lease TTL.
      const patience = Math.max(this.#inner.options.pollInterval, this.#shared.leaseTtl);
      const timer = this.#clock.setTimeout(() => finish(false), patience);
      const onAbort = (): void => finish(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      finish = (value) => {
        subscription.dispose();
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
    });
    try {
      await session.lease.requestRefresh(names);
    } catch (error) {
      this.#redisFailed(error);
      finish(false);
    }
    const answered = await fresh;
    signal?.throwIfAborted();
    return answered;
  }

  // ---- Redis health ---------------------------------------------------------

  #listen(session: Session): () => void {
    const { client, subscriber } = session.connections;
    const onMessage = (channel: string, message: string): void => {
      if (channel === this.#keys.updates) this.#onUpdate(message);
      else if (channel === this.#keys.refresh) this.#onRefresh(message);
    };
    const onClose = (): void => {
      if (this.#redisDownSince === undefined) this.#redisDownSince = this.#clock.now();
      this.#wakeUp();
    };
    // Updates published while the subscriber was away are missed: a follower
    // reloads, through the command connection once that one is back too.
    let reloadWanted = false;
    const reload = (): void => {
      reloadWanted = false;
      if (this.#role === 'follower') void this.#load(session);
    };
    const onSubscriberReady = (): void => {
      if (client.status === 'ready') reload();
      else reloadWanted = true;
    };
    const onReady = (): void => {
      if (reloadWanted) reload();
      this.#wakeUp();
    };
    subscriber.on('message', onMessage);
    subscriber.on('ready', onSubscriberReady);
    client.on('close', onClose);
    client.on('ready', onReady);
    subscriber.subscribe(this.#keys.updates, this.#keys.refresh).catch((error: unknown) => {
      if (!session.signal.aborted) this.#report(error);
    });
    return () => {
      subscriber.off('message', onMessage);
      subscriber.off('ready', onSubscriberReady);
      client.off('close', onClose);
      client.off('ready', onReady);
    };
  }

  #connectionTrouble(error: Error): void {
    this.#redisDownSince ??= this.#clock.now();
    this.#report(error);
  }

  #redisFailed(error: unknown): void {
    this.#redisDownSince ??= this.#clock.now();
    this.#report(error);
  }

  #redisAnswered(): void {
    this.#redisDownSince = undefined;
    this.#reported.clear();
  }

  #report(error: unknown): void {
    const scrubbed = scrubError(error, this.#shared.target.secrets);
    // Once per distinct message per outage: reconnect attempts repeat the same few errors.
    if (this.#reported.has(scrubbed.message) || this.#reported.size >= 32) return;
    this.#reported.add(scrubbed.message);
    this.#redisErrors.emit(scrubbed);
  }

  // ---- timing ---------------------------------------------------------------

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#wakeRequested || signal.aborted) {
      this.#wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  /** Cuts the current wait short, so a change of Redis health is acted on at once. */
  #wakeUp(): void {
    if (this.#wake) this.#wake();
    else this.#wakeRequested = true;
  }
}

/** Waits until `client` is connected, at most `timeout` ms; never rejects. */
async function whenReady(client: Connections['client'], timeout: number, signal: AbortSignal): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeout).unref();
    client.on('ready', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
