import type { Clock } from '../clock.js';
import type { HistorySample } from '../history.js';
import type { ProviderRegistry } from '../registry.js';
import type { Status } from '../status.js';
import type { RoleChange, ShareChange } from './events.js';
import type { LocalView } from './local-view.js';
import type { Membership } from './membership.js';
import type { RefreshTarget } from './refresh.js';
import type { Pause } from './session.js';
import { ShardPoller } from './shard-poller.js';
import { ShardRoles, type ShardActions } from './shard-role.js';
import { Share } from './sharding.js';
import type { StatusStore } from './store.js';
import type { RedisTrouble } from './trouble.js';
import type { StatusWriter } from './writer.js';

/** What a sharded replica works with. @internal */
export interface ShardMemberParts {
  readonly registry: ProviderRegistry;
  readonly view: LocalView;
  readonly clock: Clock;
  readonly ttl: number;
  readonly replicaId: string;
  readonly trouble: RedisTrouble;
  readonly writer: StatusWriter;
  readonly pause: Pause;
  readonly roleChanged: (change: RoleChange) => void;
  readonly shareChanged: (change: ShareChange) => void;
  /** The raw result behind a status this replica holds (for records it fills in). */
  readonly lastSample: (status: Status) => HistorySample['state'];
}

/**
 * A replica's part in a sharded replica set: its membership (roles), its
 * share (rendezvous hashing over the live members), the poller of that
 * share, and what each membership event does to the writer and the mirror.
 * @internal
 */
export class ShardMember {
  readonly roles: ShardRoles;
  readonly poller: ShardPoller;
  readonly share: Share;
  readonly #parts: ShardMemberParts;
  /** When the names outside the share were last reloaded from Redis (the clock's ms). */
  #lastLoad = -Infinity;

  constructor(parts: ShardMemberParts) {
    const { clock, ttl, trouble, view, registry, replicaId } = parts;
    this.#parts = parts;
    this.roles = new ShardRoles(clock, ttl, trouble, parts.roleChanged);
    const cache = view.cache;
    this.poller = new ShardPoller(
      { get: (name) => cache.get(name), checkProvider: (name, signal) => cache.checkProvider(name, signal) },
      clock,
      cache.options.pollInterval,
      () => this.roles.writable() !== undefined,
    );
    this.share = new Share({ registry, replicaId, poller: this.poller, changed: parts.shareChanged });
  }

  /**
   * Whether `name` is this replica's share: its results are its own, so the
   * ones published for it are not mirrored back. A provider that just moved
   * away is mirrored even while a check of ours is under way (the newer
   * result wins either way; skipping it could leave a refresh waiting).
   */
  mine(name: string): boolean {
    return this.poller.share.has(name);
  }

  /** The names this replica mirrors rather than checks. */
  others(): string[] {
    return this.#parts.registry.names().filter((name) => !this.poller.share.has(name));
  }

  /** A refresh asked on any replica: each member checks the names of its share. */
  refreshTarget(): RefreshTarget {
    const { view, registry } = this.#parts;
    return {
      onResult: view.cache.onResult,
      names: () => registry.names(),
      has: (name) => this.poller.share.has(name),
      checkNow: async () => this.poller.checkNow(null),
      checkProvider: async (name) => this.poller.checkNow([name]),
    };
  }

  /** What each membership event does. `load` reloads records of the given names from Redis. */
  actions(store: StatusStore, load: (names: readonly string[]) => Promise<void>): ShardActions {
    const { writer, view, pause, clock, ttl } = this.#parts;
    return {
      joined: async (members) => {
        writer.start({ store, current: () => this.roles.writable(), fenced: () => pause.wake() });
        await view.stopPolling();
        this.share.update(members);
        // Share what we know of our share where Redis holds nothing (a Redis that restarted empty).
        for (const name of this.poller.share) {
          const status = view.cache.get(name);
          if (status) writer.fill(status, this.#parts.lastSample(status));
        }
        this.poller.start();
      },
      members: async (members) => {
        this.share.update(members);
        // The others' records, about once per TTL: notices deletions and anything missed on the channel.
        if (clock.now() - this.#lastLoad >= ttl) {
          this.#lastLoad = clock.now();
          await load(this.others());
        }
      },
      lost: async () => {
        writer.stop();
        this.poller.stop();
        this.share.clear();
      },
      goLocal: async () => {
        writer.stop();
        this.poller.stop();
        this.share.clear();
        await view.startPolling();
      },
    };
  }

  /** On the way out: writes the last results and leaves, so the others take the share at once. */
  async resign(membership: Membership): Promise<void> {
    const { writer } = this.#parts;
    this.poller.stop();
    if (this.roles.role === 'member') await writer.flush();
    writer.stop();
    await this.roles.resign(membership);
    this.share.clear();
  }

  dispose(): void {
    this.poller.stop();
    this.share.dispose();
  }
}
