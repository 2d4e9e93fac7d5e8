import type { Clock } from '../clock.js';
import type { ReplicaRole, RoleChange } from './events.js';
import type { Lease, LeaseRepairKind, Tenure } from './lease.js';
import type { RedisTrouble } from './trouble.js';

/** What a replica does on entering each role. @internal */
export interface RoleActions {
  /** Took the lease: write under it and poll. */
  lead(): Promise<void>;
  /** Another replica leads: stop polling and writing, mirror Redis. */
  follow(): Promise<void>;
  /** Redis is out of reach for longer than the lease: poll alone. */
  goLocal(): Promise<void>;
  /** Each lease round while following: reload the records (and notice deletions). */
  followerRound(): Promise<void>;
  /** The lease script repaired garbage keys. */
  repaired(kinds: readonly LeaseRepairKind[]): void;
}

/**
 * The replica's role state machine, one lease round at a time: a leader
 * renews (and steps down when it cannot before its own bound on the lease
 * passes, measured from before the renewal was sent); anyone else tries to
 * take the lease, follows when another holds it, and polls alone once Redis
 * has been out of reach for a whole lease. @internal
 */
export class ReplicaRoles {
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #random: () => number;
  readonly #trouble: RedisTrouble;
  readonly #emit: (change: RoleChange) => void;
  #role: ReplicaRole = 'idle';
  #tenure: Tenure | undefined;
  #leader: string | undefined;
  /** Our own bound on the lease: no write and no claim to lead past it. */
  #deadline = 0;

  constructor(
    clock: Clock,
    ttl: number,
    random: () => number,
    trouble: RedisTrouble,
    emit: (change: RoleChange) => void,
  ) {
    this.#clock = clock;
    this.#ttl = ttl;
    this.#random = random;
    this.#trouble = trouble;
    this.#emit = emit;
  }

  get role(): ReplicaRole {
    return this.#role;
  }

  /** The tenure while leading. */
  get tenure(): Tenure | undefined {
    return this.#tenure;
  }

  /** The tenure while this replica may write under it: it leads and its bound on the lease has not passed. */
  writable(): Tenure | undefined {
    return this.#role === 'leader' && this.#clock.now() < this.#deadline ? this.#tenure : undefined;
  }

  /** While following: the leader's replica id, when known. */
  get leader(): string | undefined {
    return this.#role === 'follower' ? this.#leader : undefined;
  }

  /** Changes the role (with an event; a follower also when its leader changes); the tenure is dropped unless leading. */
  set(role: ReplicaRole, reason: string, leader?: string): void {
    if (role !== 'leader') this.#tenure = undefined;
    const previous = this.#role;
    const newLeader = role === 'follower' && leader !== undefined && leader !== this.#leader;
    if (role === 'follower' && leader !== undefined) this.#leader = leader;
    if (previous === role && !newLeader) return;
    this.#role = role;
    const change: RoleChange = { role, previous, reason, token: this.#tenure?.token };
    this.#emit(Object.freeze(role === 'follower' ? { ...change, leader: this.#leader } : change));
  }

  /** One round of the lease. Returns how long to wait before the next. */
  async step(lease: Lease, actions: RoleActions): Promise<number> {
    return this.#role === 'leader' && this.#tenure
      ? await this.#renew(lease, this.#tenure, actions)
      : await this.#claim(lease, actions);
  }

  /** Gives the lease up, if held (on the way out), so a follower takes over at once. */
  async resign(lease: Lease): Promise<void> {
    const tenure = this.#role === 'leader' ? this.#tenure : undefined;
    this.#tenure = undefined;
    if (tenure) await lease.release(tenure).catch((error: unknown) => this.#trouble.report(error));
  }

  async #renew(lease: Lease, tenure: Tenure, actions: RoleActions): Promise<number> {
    // Taken before sending: Redis extends the lease when the renewal arrives, so never later than this plus the TTL.
    const sent = this.#clock.now();
    try {
      const renewed = await lease.renew(tenure);
      this.#trouble.answered();
      if (renewed) {
        this.#deadline = sent + this.#ttl;
        return this.#ttl / 3;
      }
      this.set('follower', 'lost the lease to another replica');
      await actions.follow();
      return 0;
    } catch (error) {
      this.#trouble.failed(error);
      if (this.#clock.now() >= this.#deadline) {
        this.set('local', 'could not renew the lease before it expired');
        await actions.goLocal();
      }
      return this.#retry;
    }
  }

  async #claim(lease: Lease, actions: RoleActions): Promise<number> {
    const sent = this.#clock.now();
    try {
      const attempt = await lease.acquire();
      this.#trouble.answered();
      if (attempt.repairs.length > 0) actions.repaired(attempt.repairs);
      if (attempt.acquired) {
        this.#tenure = attempt.tenure;
        this.#deadline = sent + this.#ttl;
        this.set('leader', 'took the lease');
        await actions.lead();
        return this.#ttl / 3;
      }
      if (this.#role === 'follower') {
        // A new leader (a failover among the others) is worth a line: who this replica follows now.
        if (attempt.holder !== undefined && attempt.holder !== this.#leader)
          this.set('follower', `following ${attempt.holder}`, attempt.holder);
        await actions.followerRound();
      } else {
        this.set('follower', `following ${attempt.holder ?? 'another replica'}`, attempt.holder);
        await actions.follow();
      }
      // Try again when the holder's lease would run out; jitter keeps followers from trying in lockstep.
      return Math.min(attempt.remaining, this.#ttl) + 1 + Math.floor(this.#random() * 25);
    } catch (error) {
      this.#trouble.failed(error);
      const downFor = this.#clock.now() - (this.#trouble.downSince ?? sent);
      if (this.#role !== 'local' && downFor >= this.#ttl) {
        this.set('local', `Redis unreachable for ${Math.round(downFor)} ms`);
        await actions.goLocal();
      }
      return this.#retry;
    }
  }

  get #retry(): number {
    return Math.round(this.#ttl / 6);
  }
}
