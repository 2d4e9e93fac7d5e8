import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every server started and not yet stopped, so a failing test still cleans up. */
const running = new Set<RedisServer>();
// Last resort when a test process dies without its after hooks: no orphaned servers.
process.once('exit', () => {
  for (const server of running) server.killNow();
});

/** Options of {@link RedisServer.start}. */
export interface RedisServerOptions {
  /** Starts with `--requirepass`. */
  password?: string;
}

/**
 * A real `redis-server` on a free loopback port, without persistence, in a
 * temporary directory. It can be stopped, killed, paused (SIGSTOP), resumed
 * and restarted on the same port. It never touches the server on 6379.
 */
export class RedisServer {
  readonly port: number;
  readonly #password: string | undefined;
  readonly #dir: string;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;

  private constructor(port: number, dir: string, password: string | undefined) {
    this.port = port;
    this.#dir = dir;
    this.#password = password;
  }

  /** Starts a server and waits until it answers. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'provider-health-redis-'));
    const server = new RedisServer(await freePort(), dir, options.password);
    running.add(server);
    await server.restart();
    return server;
  }

  /** Stops every server still running (for `after` hooks). */
  static async stopAll(): Promise<void> {
    await Promise.all([...running].map((server) => server.destroy()));
  }

  /** `redis://127.0.0.1:<port>`, with the password when there is one. */
  get url(): string {
    return this.#password === undefined
      ? `redis://127.0.0.1:${this.port}`
      : `redis://:${encodeURIComponent(this.#password)}@127.0.0.1:${this.port}`;
  }

  /** Whether the process is alive (possibly paused). */
  get alive(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the process again (after stop or kill) on the same port, with an empty dataset. */
  async restart(): Promise<void> {
    if (this.#process) throw new Error('redis-server is already running');
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.#dir,
      '--loglevel',
      'warning',
    ];
    if (this.#password !== undefined) args.push('--requirepass', this.#password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.#process = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.#process === child) this.#process = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.port))) {
      if (this.#process !== child) throw new Error(`redis-server exited at start: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port}`);
      await sleep(25);
    }
  }

  /** Stops the process gracefully (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  /** Kills the process (SIGKILL) and waits for it to exit. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** Freezes the process: connections stay open but nothing answers. */
  pause(): void {
    this.#process?.kill('SIGSTOP');
    this.#paused = true;
  }

  /** Lets a paused process run again. */
  resume(): void {
    this.#process?.kill('SIGCONT');
    this.#paused = false;
  }

  /** Sends SIGKILL (and SIGCONT, in case it is paused) without waiting. */
  killNow(): void {
    this.#process?.kill('SIGKILL');
    this.#process?.kill('SIGCONT');
  }

  /** Kills the process and removes its directory. */
  async destroy(): Promise<void> {
    await this.kill();
    running.delete(this);
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    // A stopped process cannot act on SIGTERM until it runs again.
    if (this.#paused) this.resume();
    child.kill(signal);
    await this.#exited;
  }
}

/** A port the kernel had free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Whether something on `port` answers a RESP PING (an auth error counts as an answer). */
async function answers(port: number): Promise<boolean> {
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
