import type { Disposable } from '../disposable.js';
import type { ProviderRegistry } from '../registry.js';
import type { ShareChange } from './events.js';
import { Rendezvous } from './rendezvous.js';
import type { ShardPoller } from './shard-poller.js';

/** What the share is computed for and reported to. @internal */
export interface ShareParts {
  readonly registry: ProviderRegistry;
  readonly replicaId: string;
  readonly poller: ShardPoller;
  readonly changed: (change: ShareChange) => void;
}

/**
 * This replica's share of the providers: recomputed (rendezvous hashing)
 * whenever the live members or the registered providers change, handed to
 * the poller, and reported when it changes. @internal
 */
export class Share implements Disposable {
  readonly #parts: ShareParts;
  readonly #rendezvous = new Rendezvous();
  readonly #subscription: Disposable;
  #members: readonly string[] = [];
  #active = false;

  constructor(parts: ShareParts) {
    this.#parts = parts;
    this.#subscription = parts.registry.onChange((change) => {
      if (change.type !== 'relabelled' && this.#active) this.#recompute();
    });
  }

  /** The live members as last read (this replica included while a member). */
  get members(): readonly string[] {
    return this.#members;
  }

  /** Applies a member list read from Redis; recomputes only when it changed. */
  update(members: readonly string[]): void {
    const changed = !this.#active || members.join('\n') !== this.#members.join('\n');
    this.#members = members;
    this.#active = true;
    if (changed) this.#recompute();
  }

  /** Not a member any more: the share is empty until the next {@link Share.update}. */
  clear(): void {
    this.#active = false;
    this.#members = [];
    const lost = this.#parts.poller.share.size;
    this.#parts.poller.setShare(new Set());
    if (lost > 0) this.#report(0, lost);
  }

  dispose(): void {
    this.#subscription.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #recompute(): void {
    const { registry, replicaId, poller } = this.#parts;
    const names = registry.names();
    // This replica polls its share even before its own entry shows in a list read elsewhere.
    const members = this.#members.includes(replicaId) ? this.#members : [...this.#members, replicaId];
    const owners = this.#rendezvous.assign(names, members);
    const share = new Set<string>();
    for (const [name, owner] of owners) if (owner === replicaId) share.add(name);
    const before = poller.share;
    let gained = 0;
    for (const name of share) if (!before.has(name)) gained++;
    const lost = before.size - (share.size - gained);
    this.#rendezvous.retain(new Set(names));
    poller.setShare(share);
    if (gained > 0 || lost > 0 || before.size === 0) this.#report(gained, lost);
  }

  #report(gained: number, lost: number): void {
    this.#parts.changed(
      Object.freeze({
        size: this.#parts.poller.share.size,
        total: this.#parts.registry.names().length,
        members: this.#members,
        gained,
        lost,
      }),
    );
  }
}
