import type { RedisClient } from './target.js';
import type { Clock } from '../clock.js';
import type { HistorySample } from '../history.js';
import type { ProviderRegistry } from '../registry.js';
import type { Status } from '../status.js';
import { openConnections, type Connections } from './connection.js';
import { deploymentProblem } from './deployment.js';
import type { LeaseRepair, ReplicaDescription, RoleChange, ShareChange } from './events.js';
import { replicaHistory, type HistorySync } from './history-sync.js';
import type { SharedKeys } from './keys.js';
import { Lease } from './lease.js';
import { Membership } from './membership.js';
import type { LocalView } from './local-view.js';
import { Mirror } from './mirror.js';
import type { ResolvedSharedOptions } from './options.js';
import { RefreshChannel } from './refresh.js';
import { ReplicaRoles, type RoleActions } from './role.js';
import { Pause, watchConnections, whenReady, type ConnectionHandlers } from './session.js';
import { ShardMember } from './shard-member.js';
import type { ShardRoles } from './shard-role.js';
import { StatusStore } from './store.js';
import { RedisTrouble } from './trouble.js';
import { StatusWriter } from './writer.js';

/** What a {@link Replica} works with and reports to. @internal */
export interface ReplicaParts {
  readonly registry: ProviderRegistry;
  readonly view: LocalView;
  readonly shared: ResolvedSharedOptions;
  readonly keys: SharedKeys;
  readonly clock: Clock;
  readonly random: () => number;
  readonly roleChanged: (change: RoleChange) => void;
  readonly redisError: (error: Error) => void;
  readonly leaseRepaired: (repair: LeaseRepair) => void;
  /** This replica's share changed (with `shards`). */
  readonly shareChanged?: ((change: ShareChange) => void) | undefined;
  /** Called with the command connection when a run opens it; what it returns is awaited when the run ends. */
  readonly connected?: ((client: RedisClient) => () => Promise<void>) | undefined;
}

/** What one `run` holds while active. */
interface Session {
  readonly lease: Lease;
  readonly membership: Membership;
  readonly store: StatusStore;
  readonly refresh: RefreshChannel;
  readonly signal: AbortSignal;
}

// A little over 300 lines: the single-leader and sharded wiring share one session, its handlers and the loads.
/**
 * One replica's part in the group: connects, takes part in the lease rounds
 * (through {@link ReplicaRoles}), writes while leading, mirrors Redis while
 * following, forwards refreshes. The façade owns its events and reads. @internal
 */
export class Replica {
  readonly roles: ReplicaRoles | ShardRoles;
  /** The single-poller roles (without `shards`). */
  readonly #single: ReplicaRoles | undefined;
  /** The sharded part (with `shards`). */
  readonly #shard: ShardMember | undefined;
  /** When the last lease round ended (the clock's ms), `undefined` before the first: read by liveness probes. */
  lastRoundAt: number | undefined;
  readonly #parts: ReplicaParts;
  readonly #trouble: RedisTrouble;
  readonly #writer: StatusWriter;
  readonly #mirror: Mirror;
  readonly #history: HistorySync;
  readonly #pause: Pause;
  #session: Session | undefined;

  constructor(parts: ReplicaParts) {
    const { clock, shared, view } = parts;
    this.#parts = parts;
    this.#trouble = new RedisTrouble(clock, shared.target.secrets, parts.redisError);
    this.#writer = new StatusWriter(clock, this.#trouble);
    this.#history = replicaHistory(view.cache, parts.keys, shared, clock, {
      writable: () => this.roles.writable(),
      mine: (name) => this.#shard?.mine(name) ?? true,
      report: (error) => this.#trouble.report(error),
      badEntry: parts.redisError,
    });
    this.#mirror = new Mirror(
      this.#history.target(view),
      clock,
      { ...shared, ...view.cache.options },
      this.#trouble,
    );
    this.#pause = new Pause(clock);
    if (shared.shards) {
      this.#shard = new ShardMember({
        ...parts,
        ttl: shared.leaseTtl,
        replicaId: shared.replicaId,
        trouble: this.#trouble,
        writer: this.#writer,
        pause: this.#pause,
        shareChanged: parts.shareChanged ?? (() => {}),
        lastSample: (status) => this.#lastSample(status),
      });
      this.roles = this.#shard.roles;
    } else {
      this.#single = new ReplicaRoles(clock, shared.leaseTtl, parts.random, this.#trouble, parts.roleChanged);
      this.roles = this.#single;
    }
    // Only this replica's own checks are written: the leader's, or a member's of its share.
    view.cache.onResult(({ status, sample }) => {
      const role = this.roles.role;
      if (role === 'leader' || (role === 'member' && this.#shard?.poller.checking(status.name)))
        this.#writer.queue(status, sample.state);
    });
    view.cache.onSweep(() => this.#writer.flushSoon(0));
  }

  /** Reports a problem of the local poller (it should not have any). */
  report(error: unknown): void {
    this.#trouble.report(error);
  }

  /** Takes part until `signal` aborts; on the way out releases the lease and closes what it opened. */
  async run(signal: AbortSignal): Promise<void> {
    const { shared, keys, clock, view } = this.#parts;
    let connections: Connections | undefined;
    let unwatch: (() => void) | undefined;
    let session: Session | undefined;
    let detach: (() => Promise<void>) | undefined;
    try {
      this.roles.set('connecting', 'starting');
      connections = await openConnections(shared, clock, (error) => this.#trouble.failed(error));
      session = this.#open(connections, signal);
      this.#session = session;
      detach = this.#parts.connected?.(connections.client);
      unwatch = watchConnections(connections, keys, this.#handlers(session));
      await whenReady(connections.client, clock, shared.leaseTtl, signal);
      // Before the mirror's first load and any lease round: a new leader shows the kept history before its first check.
      if (!signal.aborted) await this.#history.load(connections.client);
      const limit = { clock, timeout: shared.commandTimeout };
      const problem = signal.aborted ? undefined : await deploymentProblem(connections.client, limit);
      if (problem) await this.#alone(problem, signal);
      else if (!signal.aborted) await this.#participate(session, signal);
    } finally {
      unwatch?.();
      await view.stopPolling();
      if (session) await this.#resign(session);
      this.#session = undefined;
      await this.#history.detach();
      await detach?.();
      await connections?.close();
      this.roles.set('idle', 'stopped');
    }
  }

  /** A follower's refresh, forwarded to the leader; `false` when this replica should check locally. */
  async forward(names: readonly string[] | null, signal: AbortSignal | undefined): Promise<boolean> {
    const session = this.#session;
    const role = this.roles.role;
    if ((role !== 'follower' && role !== 'member') || session === undefined) return false;
    signal?.throwIfAborted();
    // A live leader answers well within this; a dead one is replaced within the lease TTL.
    const patience = Math.max(this.#parts.view.cache.options.pollInterval, this.#parts.shared.leaseTtl);
    return await session.refresh.forward(names, patience, signal);
  }

  #open(connections: Connections, signal: AbortSignal): Session {
    const { client } = connections;
    const { shared, keys, clock, registry } = this.#parts;
    const limit = { clock, timeout: shared.commandTimeout };
    const cache = this.#parts.view.cache;
    const target = this.#shard?.refreshTarget() ?? {
      onResult: cache.onResult,
      names: () => registry.names(),
      has: (name: string) => registry.has(name),
      checkNow: () => cache.checkNow(),
      checkProvider: (name: string) => cache.checkProvider(name),
    };
    return {
      lease: new Lease(client, keys, shared.replicaId, shared.leaseTtl, limit),
      membership: new Membership(client, keys, shared.replicaId, shared.leaseTtl, limit),
      store: new StatusStore(client, keys, limit, shared.shards ? 'membership' : 'lease'),
      refresh: new RefreshChannel(client, keys.refresh, target, limit, this.#trouble),
      signal,
    };
  }

  /** Redis is not what the options claim: say so, and poll alone rather than share through it. */
  async #alone(problem: Error, signal: AbortSignal): Promise<void> {
    this.#trouble.report(problem);
    this.roles.set('local', problem.message);
    await this.#parts.view.startPolling();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Warm start (serve the last known statuses before anything else), then one lease round after another. */
  async #participate(session: Session, signal: AbortSignal): Promise<void> {
    await this.#load(session);
    const shard = this.#shard;
    const step = shard
      ? (
          (actions) => () =>
            shard.roles.step(session.membership, actions)
        )(shard.actions(session.store, (names) => this.#load(session, names)))
      : (
          (actions) => () =>
            this.#single!.step(session.lease, actions)
        )(this.#actions(session));
    while (!signal.aborted) {
      const delay = await step();
      this.lastRoundAt = this.#parts.clock.now();
      await this.#pause.wait(delay, signal);
    }
  }

  #actions(session: Session): RoleActions {
    const { view, keys } = this.#parts;
    return {
      lead: async () => {
        this.#writer.start({
          store: session.store,
          current: () => this.roles.writable(),
          fenced: () => this.#pause.wake(),
        });
        // Share what we know where Redis holds nothing (a Redis that restarted empty).
        for (const status of view.cache.snapshot()) this.#writer.fill(status, this.#lastSample(status));
        await view.startPolling();
      },
      follow: async () => {
        this.#writer.stop();
        await view.stopPolling();
        // Updates were ignored while leading or polling alone, and may have been missed while connecting.
        await this.#load(session);
      },
      goLocal: async () => {
        this.#writer.stop();
        await view.startPolling();
      },
      followerRound: () => this.#load(session),
      repaired: (kinds) => {
        for (const kind of kinds) {
          const key = kind === 'token-not-a-number' ? keys.token : keys.lease;
          this.#parts.leaseRepaired(Object.freeze({ kind, key }));
        }
      },
    };
  }

  #handlers(session: Session): ConnectionHandlers {
    return {
      // The leader has these results already, from its own checks.
      update: (message) => {
        const role = this.roles.role;
        if (role === 'member') this.#mirror.applyUpdate(message, (name) => this.#shard?.mine(name) === true);
        else if (role !== 'leader') this.#mirror.applyUpdate(message);
      },
      refresh: (message) => {
        if (this.roles.role === 'leader' || this.roles.role === 'member') session.refresh.handle(message);
      },
      // A member joined or left: heartbeat now, to rebalance at once.
      membership: () => {
        if (this.roles.role === 'member') this.#pause.wake();
      },
      closed: () => {
        this.#trouble.disconnected();
        // Redis may come back holding anything, even nothing: only what is read after counts as deleted.
        this.#mirror.reset();
        this.#pause.wake();
      },
      ready: () => this.#pause.wake(),
      resubscribed: () => {
        if (this.roles.role === 'follower') void this.#load(session);
        else if (this.roles.role === 'member' && this.#shard) void this.#load(session, this.#shard.others());
      },
      failed: (error) => {
        if (!session.signal.aborted) this.#trouble.report(error);
      },
    };
  }

  /** Loads the stored records of our providers (and notices deleted ones). Failures are reported, not thrown. */
  async #load(session: Session, names = this.#parts.registry.names()): Promise<void> {
    try {
      const loaded = await session.store.load(names);
      this.#trouble.answered();
      this.#mirror.applyLoad(loaded);
    } catch (error) {
      this.#trouble.failed(error);
    }
  }

  /** On the way out: writes the last results and releases the lease so a follower takes over at once. */
  async #resign(session: Session): Promise<void> {
    await this.#history.flush(); // hand-over: the histories with results since the last write, while still ours
    if (this.#shard) return await this.#shard.resign(session.membership);
    if (this.roles.role === 'leader') await this.#writer.flush();
    this.#writer.stop();
    await this.#single?.resign(session.lease);
  }

  /** What this replica is and does now. */
  describe(): ReplicaDescription {
    const shard = this.#shard;
    return Object.freeze({
      id: this.#parts.shared.replicaId,
      role: this.roles.role,
      mode: shard ? 'sharded' : 'single',
      token: this.roles.tenure?.token,
      leader: this.roles.leader,
      share: shard && {
        size: shard.poller.share.size,
        total: this.#parts.registry.names().length,
      },
      members: shard?.share.members,
    });
  }

  /** The raw result behind a status held before leading (every result and restore adds one to the history). */
  #lastSample(status: Status): HistorySample['state'] {
    const last = this.#parts.view.cache.history(status.name).at(-1);
    if (last && last.checkedAt.getTime() === status.checkedAt.getTime()) return last.state;
    if (status.consecutiveFailures > 0) return 'unhealthy';
    return status.state === 'degraded' ? 'degraded' : 'healthy';
  }
}
