import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ReplicaConfig, ReportedStatus } from '../fixtures/replica.js';
import type { ShardReplicaConfig } from '../fixtures/shard-replica.js';

const REPLICA_SCRIPT = fileURLToPath(new URL('../fixtures/replica.ts', import.meta.url));
/** The replica of a sharded replica set (test/fixtures/shard-replica.ts). */
export const SHARD_REPLICA_SCRIPT = fileURLToPath(new URL('../fixtures/shard-replica.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One counted call. */
export interface CallRecord {
  readonly name: string;
  readonly replica: string;
  /** The full sweep of that replica the check belonged to (1 = its first). */
  readonly sweep: number;
  readonly at: number;
}

/**
 * An HTTP server on loopback that the replicas' checkers call, counting the
 * calls per provider: the ground truth of how often a control plane was hit.
 */
export class CheckCounter {
  readonly #server: Server;
  readonly #calls = new Map<string, number>();
  readonly #byReplica = new Map<string, number>();
  #total = 0;
  readonly #log: CallRecord[] = [];
  readonly #startedAt = Date.now();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts the server on a free port. */
  static async start(): Promise<CheckCounter> {
    const server = createServer();
    const counter = new CheckCounter(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      counter.#count(
        decodeURIComponent(url.pathname.replace(/^\/check\//, '')),
        url.searchParams.get('replica') ?? '',
        Number(url.searchParams.get('sweep') ?? 0),
      );
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  #count(name: string, replica: string, sweep: number): void {
    this.#calls.set(name, (this.#calls.get(name) ?? 0) + 1);
    this.#byReplica.set(replica, (this.#byReplica.get(replica) ?? 0) + 1);
    this.#total++;
    this.#log.push({ name, replica, sweep, at: Date.now() - this.#startedAt });
  }

  get port(): number {
    const address = this.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening');
    return address.port;
  }

  /** Calls of one provider's checker so far. */
  calls(name: string): number {
    return this.#calls.get(name) ?? 0;
  }

  /** Calls made by one replica so far. */
  callsBy(replicaId: string): number {
    return this.#byReplica.get(replicaId) ?? 0;
  }

  /** The fewest and most calls of any of `names`. */
  range(names: readonly string[]): { min: number; max: number } {
    const counts = names.map((name) => this.calls(name));
    return { min: Math.min(...counts), max: Math.max(...counts) };
  }

  /** Every call so far, in order. */
  get log(): readonly CallRecord[] {
    return [...this.#log];
  }

  /** Calls of every checker so far. */
  get total(): number {
    return this.#total;
  }

  /** Forgets the counts. */
  reset(): void {
    this.#calls.clear();
    this.#byReplica.clear();
    this.#total = 0;
    this.#log.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A message from a replica process (see test/fixtures/replica.ts). */
export interface ReplicaMessage {
  readonly type: string;
  readonly role?: string;
  readonly previous?: string;
  readonly reason?: string;
  readonly token?: number;
  readonly message?: string;
  readonly kind?: string;
  readonly statuses?: ReportedStatus[];
  readonly at?: number;
  readonly name?: string;
  readonly full?: boolean;
  readonly sweeps?: number;
  readonly invokedMin?: number;
  readonly invokedMax?: number;
  readonly known?: number;
  readonly stale?: number;
  /** `share` messages (sharded replicas). */
  readonly size?: number;
  readonly total?: number;
  readonly members?: string[];
  readonly gained?: number;
  readonly lost?: number;
  /** `checked` and `count` replies. */
  readonly ms?: number;
  readonly checks?: number;
}

const spawned = new Set<ReplicaProcess>();
process.once('exit', () => {
  for (const replica of spawned) replica.killNow();
});

/** A replica running as a separate Node.js process. */
export class ReplicaProcess {
  readonly id: string;
  readonly messages: ReplicaMessage[] = [];
  readonly exited: Promise<number | null>;
  #child: ChildProcess;
  #stdout = '';
  #stderr = '';
  #listeners = new Set<() => void>();
  #paused = false;
  #alive = true;

  private constructor(id: string, child: ChildProcess) {
    this.id = id;
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    child.on('message', (message: ReplicaMessage) => {
      this.messages.push(message);
      for (const listener of this.#listeners) listener();
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.#alive = false;
        spawned.delete(this);
        for (const listener of this.#listeners) listener();
        resolve(code);
      });
    });
  }

  /** Spawns `node --import tsx test/fixtures/replica.ts` (or `script`) with `config`. */
  static spawn(config: ReplicaConfig | ShardReplicaConfig, script = REPLICA_SCRIPT): ReplicaProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, REPLICA_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const replica = new ReplicaProcess(config.replicaId, child);
    spawned.add(replica);
    return replica;
  }

  /** Kills every replica still running (for `after` hooks), resuming paused ones first. */
  static async killAll(): Promise<void> {
    await Promise.all(
      [...spawned].map(async (replica) => {
        replica.killNow();
        await replica.exited;
      }),
    );
  }

  /** Everything the process wrote, stdout and stderr. */
  get output(): string {
    return this.#stdout + this.#stderr;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The role it last reported. */
  get role(): string | undefined {
    return this.messages.findLast((message) => message.type === 'role')?.role;
  }

  /** The lease token it last reported while leading. */
  get token(): number | undefined {
    return this.messages.findLast((message) => message.type === 'role' && message.role === 'leader')?.token;
  }

  /** Messages reporting a crash (unhandled rejection, uncaught exception, run rejected). */
  get crashes(): ReplicaMessage[] {
    return this.messages.filter((message) => message.type === 'crash');
  }

  /** Resolves with the first message (from `from` on) matching `predicate`. */
  async waitFor(
    predicate: (message: ReplicaMessage) => boolean,
    timeout: number,
    description: string,
    from = 0,
  ): Promise<ReplicaMessage> {
    return await new Promise<ReplicaMessage>((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.slice(from).find(predicate);
        if (found) finish(() => resolve(found));
        else if (!this.#alive)
          finish(() => reject(new Error(`${this.id} exited while waiting for ${description}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.id}: no ${description} within ${timeout} ms`))),
        timeout,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Sends `message` and resolves with the first reply of type `reply`. */
  async ask(message: { type: string }, reply: string, timeout = 10_000): Promise<ReplicaMessage> {
    const from = this.messages.length;
    this.#child.send(message);
    return await this.waitFor((m) => m.type === reply, timeout, reply, from);
  }

  /** Asks for the replica's current snapshot. */
  async snapshot(timeout = 10_000): Promise<{ role: string; token?: number; statuses: ReportedStatus[] }> {
    const from = this.messages.length;
    this.#child.send({ type: 'snapshot' });
    const reply = await this.waitFor((message) => message.type === 'snapshot', timeout, 'snapshot', from);
    return reply as unknown as { role: string; token?: number; statuses: ReportedStatus[] };
  }

  /** Asks it to stop gracefully (releasing the lease) and waits for the exit code. */
  async stop(timeout = 15_000): Promise<number | null> {
    if (!this.#alive) return await this.exited;
    if (this.#paused) this.resume();
    this.#child.send({ type: 'stop' });
    const timer = setTimeout(() => this.killNow(), timeout);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL, no goodbye. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  /** SIGSTOP: the process freezes with its sockets open. */
  pause(): void {
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT. */
  resume(): void {
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /** SIGKILL (and SIGCONT for a paused process) without waiting. */
  killNow(): void {
    if (!this.#alive) return;
    this.#child.kill('SIGKILL');
    this.#child.kill('SIGCONT');
  }
}

/** Polls `condition` until it holds, failing after `timeout` ms with `description`. */
export async function eventually<T>(
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  timeout: number,
  description: string,
  interval = 50,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
