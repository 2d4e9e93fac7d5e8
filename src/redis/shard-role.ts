import type { Clock } from '../clock.js';
import type { ReplicaRole, RoleChange } from './events.js';
import type { Tenure } from './lease.js';
import type { Membership } from './membership.js';
import type { RedisTrouble } from './trouble.js';

/** What a sharded replica does on each membership event. @internal */
export interface ShardActions {
  /** Joined (with a new token): write under it and poll the share of `members`. */
  joined(members: readonly string[]): Promise<void>;
  /** A heartbeat read the live members (ours still alive). */
  members(members: readonly string[]): Promise<void>;
  /** Our membership expired (paused, cut off): the others took our share; stop polling and writing it. */
  lost(): Promise<void>;
  /** Redis is out of reach for longer than the TTL: poll everything alone. */
  goLocal(): Promise<void>;
}

/**
 * The role state machine of a sharded replica, one heartbeat at a time: a
 * member renews its membership every third of the TTL and stops writing
 * once its own bound on the membership passes (measured from before the
 * renewal was sent); one whose membership expired rejoins with a new token;
 * one that cannot reach Redis for a whole TTL polls alone. @internal
 */
export class ShardRoles {
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #trouble: RedisTrouble;
  readonly #emit: (change: RoleChange) => void;
  #role: ReplicaRole = 'idle';
  #tenure: Tenure | undefined;
  #deadline = 0;

  constructor(clock: Clock, ttl: number, trouble: RedisTrouble, emit: (change: RoleChange) => void) {
    this.#clock = clock;
    this.#ttl = ttl;
    this.#trouble = trouble;
    this.#emit = emit;
  }

  get role(): ReplicaRole {
    return this.#role;
  }

  /** The membership while a member. */
  get tenure(): Tenure | undefined {
    return this.#tenure;
  }

  /** Never following anyone. */
  get leader(): undefined {
    return undefined;
  }

  /** The membership while this replica may write under it (its bound has not passed). */
  writable(): Tenure | undefined {
    return this.#role === 'member' && this.#clock.now() < this.#deadline ? this.#tenure : undefined;
  }

  /** Changes the role (with an event); the membership is dropped unless a member. */
  set(role: ReplicaRole, reason: string): void {
    if (role !== 'member') this.#tenure = undefined;
    const previous = this.#role;
    if (previous === role) return;
    this.#role = role;
    this.#emit(Object.freeze({ role, previous, reason, token: this.#tenure?.token }));
  }

  /** One heartbeat (or join). Returns how long to wait before the next. */
  async step(membership: Membership, actions: ShardActions): Promise<number> {
    const sent = this.#clock.now();
    try {
      const tenure = this.#role === 'member' ? this.#tenure : undefined;
      if (tenure) {
        const beat = await membership.heartbeat(tenure);
        this.#trouble.answered();
        if (beat.alive) {
          this.#deadline = sent + this.#ttl;
          await actions.members(beat.members);
          return this.#ttl / 3;
        }
        this.set('connecting', 'its membership expired: the others took its share');
        await actions.lost();
      }
      const joined = await membership.join();
      this.#trouble.answered();
      this.#tenure = joined.tenure;
      this.#deadline = sent + this.#ttl;
      this.set('member', `joined ${joined.members.length} member(s)`);
      await actions.joined(joined.members);
      return this.#ttl / 3;
    } catch (error) {
      this.#trouble.failed(error);
      const member = this.#role === 'member';
      const downFor = this.#clock.now() - (this.#trouble.downSince ?? sent);
      if (member ? this.#clock.now() >= this.#deadline : this.#role !== 'local' && downFor >= this.#ttl) {
        this.set(
          'local',
          member
            ? 'could not renew its membership before it expired'
            : `Redis unreachable for ${Math.round(downFor)} ms`,
        );
        await actions.goLocal();
      }
      return Math.round(this.#ttl / 6);
    }
  }

  /** Leaves (on the way out), so the others take the share at once. */
  async resign(membership: Membership): Promise<void> {
    const tenure = this.#role === 'member' ? this.#tenure : undefined;
    this.#tenure = undefined;
    if (tenure) await membership.leave(tenure).catch((error: unknown) => this.#trouble.report(error));
  }
}
