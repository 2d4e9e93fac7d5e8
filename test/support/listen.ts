/**
 * Small helpers for tests that start real loopback servers.
 */
import type { Server as NetServer, Socket } from 'node:net';

/** Listens on a free port of 127.0.0.1 and returns it. */
export async function listen(server: NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

/** Closes `server`, destroying the connections it still holds. */
export async function close(server: NetServer & { closeAllConnections?: () => void }): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  await closed;
}

/** Tracks the sockets a server accepts, so tests can see them close and destroy leftovers. */
export function trackSockets(server: NetServer): { readonly open: Set<Socket>; closed(): Promise<void> } {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return {
    open,
    // Waits until every accepted socket has closed (the client hung up).
    async closed(): Promise<void> {
      await Promise.all([...open].map((socket) => new Promise((resolve) => socket.once('close', resolve))));
    },
  };
}

/** A port that nothing listens on: bound once, then released. */
export async function refusedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** Asserts-friendly: every string of `secrets` that occurs in `text`. */
export function leakedSecrets(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => text.includes(secret));
}

/**
 * A loopback port whose connection attempts hang: a child process listens
 * with a backlog of 1 and is stopped (SIGSTOP), then two connections fill
 * its accept queue, so the kernel drops further SYNs. Call `close()` after.
 */
export async function hangingPort(): Promise<{ readonly port: number; close(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
    });
    child.kill('SIGSTOP');
    for (let i = 0; i < 2; i += 1) {
      const socket = net.connect({ host: '127.0.0.1', port });
      fillers.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    }
    return { port, close };
  } catch (error) {
    await close();
    throw error;
  }
}
