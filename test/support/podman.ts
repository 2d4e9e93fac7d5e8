/**
 * A real Docker Engine API for tests: `podman system service` on a socket in
 * a temporary directory, with its own storage, run root and tmp dir, so it
 * touches nothing of the machine's containers and several can run at once.
 *
 * ```ts
 * const podman = await startPodmanService();
 * try {
 *   dockerChecker({ host: podman.host });
 * } finally {
 *   await podman.cleanup();
 * }
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or stopped) Podman API service. */
export interface PodmanService {
  /** The temporary directory holding the socket and storage. */
  readonly dir: string;
  /** The socket's path. */
  readonly socketPath: string;
  /** `unix://<socketPath>`, as `DOCKER_HOST` takes it. */
  readonly host: string;
  /** The service's process id (undefined once stopped). */
  readonly pid: number | undefined;
  /** Freezes the service (SIGSTOP): connections are accepted by the kernel but nothing answers. */
  pause(): void;
  /** Thaws it (SIGCONT). */
  resume(): void;
  /** Stops the service (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts the service again on the same socket and waits until it answers. */
  restart(): Promise<void>;
  /** Stops the service and removes the temporary directory. */
  cleanup(): Promise<void>;
}

/** Whether `GET /_ping` on `socketPath` answers 200 within `timeout` ms. */
export function pingSocket(socketPath: string, timeout = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function spawnService(dir: string, socketPath: string): { child: ChildProcess; output: () => string } {
  const child = spawn(
    'podman',
    [
      // Everything podman writes lives in `dir`, so tests never share or touch the host's storage.
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'runroot'),
      '--tmpdir',
      join(dir, 'tmp'),
      '--network-config-dir',
      join(dir, 'networks'),
      '--volumepath',
      join(dir, 'volumes'),
      // vfs works in any container; overlay on overlay often does not.
      '--storage-driver',
      'vfs',
      // journald and systemd are usually absent where tests run.
      '--events-backend',
      'file',
      '--cgroup-manager',
      'cgroupfs',
      'system',
      'service',
      '--time=0',
      `unix://${socketPath}`,
    ],
    {
      env: { ...process.env, XDG_RUNTIME_DIR: join(dir, 'xdg'), XDG_CONFIG_HOME: join(dir, 'config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (data: Buffer): void => {
    output = (output + data.toString()).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, output: () => output };
}

async function waitUntilReady(
  socketPath: string,
  child: ChildProcess,
  output: () => string,
  timeout: number,
): Promise<void> {
  const deadline = Date.now() + timeout;
  let exited = false;
  const onExit = (): void => {
    exited = true;
  };
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exited)
        throw new Error(`podman system service exited before answering: ${output() || '(no output)'}`);
      if (await pingSocket(socketPath)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `podman system service did not answer /_ping within ${timeout} ms: ${output() || '(no output)'}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    child.off('exit', onExit);
  }
}

/** Removes `dir`, retrying while files that podman was still closing disappear. */
function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // A stopped process cannot act on SIGTERM until it is continued.
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link startPodmanService}. */
export interface PodmanServiceOptions {
  /** Where to put the socket (its directory must exist). Default `<dir>/podman.sock`. */
  socketPath?: string;
  /** How long to wait for `/_ping` to answer, in ms. Default 60,000. */
  timeout?: number;
}

/**
 * Starts `podman system service --time=0` on a socket in a new temporary
 * directory and waits until `GET /_ping` answers. Throws with podman's output
 * if it fails to start. Works as root; as another user it needs a working
 * rootless podman (subuids).
 */
export async function startPodmanService(options: PodmanServiceOptions = {}): Promise<PodmanService> {
  const timeout = options.timeout ?? 60_000;
  const dir = await mkdtemp(join(tmpdir(), 'provider-health-podman-'));
  const socketPath = options.socketPath ?? join(dir, 'podman.sock');
  let current: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const { child, output } = spawnService(dir, socketPath);
    current = child;
    try {
      await waitUntilReady(socketPath, child, output, timeout);
    } catch (error) {
      await stopChild(child);
      throw error;
    }
  };
  const stop = async (): Promise<void> => {
    if (current !== undefined) await stopChild(current);
  };

  try {
    await start();
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
  return {
    dir,
    socketPath,
    host: `unix://${socketPath}`,
    get pid() {
      return current?.exitCode === null && current.signalCode === null ? current.pid : undefined;
    },
    pause: () => {
      current?.kill('SIGSTOP');
    },
    resume: () => {
      current?.kill('SIGCONT');
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    async cleanup() {
      await stop();
      await removeDir(dir);
    },
  };
}

/** A socket in front of a {@link PodmanService} that can change or hold its answers. */
export interface PodmanProxy {
  readonly socketPath: string;
  /** `unix://<socketPath>`. */
  readonly host: string;
  /** Connections still open once the client side closed them (waits up to 2 s for them to close). */
  connections(): Promise<number>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** What a {@link startPodmanProxy} does with one request path. */
export interface PodmanProxyOptions {
  /**
   * Called with the request path: `'hang'` holds the request unanswered,
   * a number answers that status with an empty JSON object, a function
   * rewrites Podman's real body; `undefined` passes it through.
   */
  readonly on?: (path: string) => 'hang' | number | ((body: string) => string) | undefined;
}

/**
 * Starts an HTTP proxy on a new unix socket next to `podman`'s, forwarding to
 * the real service, so a test can add warnings to its real `/info`, refuse a
 * path (403) or make it hang.
 */
export async function startPodmanProxy(
  podman: PodmanService,
  options: PodmanProxyOptions = {},
): Promise<PodmanProxy> {
  const socketPath = join(podman.dir, `proxy-${Math.random().toString(36).slice(2)}.sock`);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rule = options.on?.(path);
    if (rule === 'hang') return;
    if (typeof rule === 'number') {
      res.writeHead(rule, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const upstream = http.request(
      { socketPath: podman.socketPath, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        if (rule === undefined) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = rule(Buffer.concat(chunks).toString('utf8'));
          const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) };
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    host: `unix://${socketPath}`,
    async connections() {
      const deadline = Date.now() + 2_000;
      while (sockets.size > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
