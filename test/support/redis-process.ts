import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every process started and not yet stopped, so a failing test still cleans up. */
const running = new Set<RedisProcess>();
// Last resort when a test process dies without its after hooks: no orphaned servers.
process.once('exit', () => {
  for (const child of running) child.killNow();
});

/**
 * One `redis-server` or `redis-sentinel` process on a loopback port, started
 * with the given arguments (used by the Sentinel and Cluster setups). It can
 * be killed, paused and resumed; it answers RESP on `port`.
 */
export class RedisProcess {
  readonly port: number;
  readonly #command: string;
  readonly #args: readonly string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';

  constructor(command: 'redis-server' | 'redis-sentinel', port: number, args: readonly string[]) {
    this.#command = command;
    this.port = port;
    this.#args = args;
  }

  /** Starts the process and waits (at most 10 s) until it answers a PING. */
  async start(): Promise<void> {
    if (this.#child) throw new Error(`${this.#command} on ${this.port} is already running`);
    const child = spawn(this.#command, [...this.#args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.#child = child;
    running.add(this);
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.#child === child) this.#child = undefined;
        running.delete(this);
        resolve();
      });
    });
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.port))) {
      if (this.#child !== child)
        throw new Error(`${this.#command} exited at start: ${this.#stderr.trim().slice(0, 500)}`);
      if (Date.now() > deadline) throw new Error(`${this.#command} did not answer on port ${this.port}`);
      await sleep(25);
    }
  }

  /** Whether the process is alive. */
  get alive(): boolean {
    return this.#child !== undefined;
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    child.kill('SIGCONT');
    await this.#exited;
  }

  /** SIGSTOP: sockets stay open, nothing answers. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT. */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** SIGKILL (and SIGCONT) without waiting. */
  killNow(): void {
    this.#child?.kill('SIGKILL');
    this.#child?.kill('SIGCONT');
  }
}

/** Whether something on `port` answers a RESP PING (an auth error counts as an answer). @internal */
export async function answers(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (value: boolean): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (data) => done(data.length > 0));
  });
}

/** Polls `condition` every 100 ms until it holds, at most `timeout` ms. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeout: number,
  description: string,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (
    !(await Promise.resolve()
      .then(condition)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${description}`);
    await sleep(100);
  }
}
