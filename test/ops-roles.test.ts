// Shared mode through the built CLI with two replica processes on a real
// redis-server: the role lines, the replica section of /api/status, and the
// probes of a leader and a follower.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, startCli, type CliProcess } from './support/cli.js';
import { request } from './support/http.js';
import { close, listen } from './support/listen.js';
import { RedisServer } from './support/redis-server.js';

interface StatusJSON {
  readonly mode: string;
  readonly ready: boolean;
  readonly live: boolean;
  readonly replica?: {
    readonly id: string;
    readonly role: string;
    readonly mode?: string;
    readonly leader?: string;
    readonly share?: number;
    readonly total?: number;
    readonly members?: readonly string[];
  };
}

describe('serve in shared mode: roles', () => {
  let dir = '';
  let redis: RedisServer;
  let targetPort = 0;
  const running = new Set<CliProcess>();
  const target = net.createServer((socket) => socket.destroy());

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-ops-roles-'));
    targetPort = await listen(target);
    redis = await RedisServer.start();
  });
  after(async () => {
    await Promise.all([...running].map((cli) => cli.kill()));
    await close(target);
    await redis?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  async function replica(file: string): Promise<{ cli: CliProcess; url: string }> {
    const cli = startCli(['serve', '--config', file, '--port', '0'], {
      env: cliEnv({ HOME: dir, PROVIDER_HEALTH_REDIS_URL: redis.url }),
    });
    running.add(cli);
    const [, url] = await cli.waitForLine(/listening on (http:\/\/\S+)/, 20_000);
    return { cli, url: url as string };
  }

  const status = async (url: string): Promise<StatusJSON> =>
    (await request(`${url}/api/status`)).json<StatusJSON>();

  it(
    'logs leading and following, names the replica in /api/status, and hands over when the leader stops',
    { timeout: 90_000 },
    async () => {
      const file = join(dir, 'shared.json');
      await writeFile(
        file,
        JSON.stringify({
          pollInterval: '1s',
          checkTimeout: '500ms',
          redis: { key: `ops-roles-${process.pid}`, leaseTtl: '2s' },
          providers: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: targetPort }],
        }),
      );
      const a = await replica(file);
      const [, leaderId] = await a.cli.waitForLine(/INFO +leading as (\S+)$/, 15_000);
      const b = await replica(file);
      await b.cli.waitForLine(/INFO +following /, 15_000);

      const statusA = await status(a.url);
      assert.equal(statusA.mode, 'shared');
      assert.deepEqual(statusA.replica, { id: leaderId, role: 'leader', mode: 'single', leader: leaderId });
      const statusB = await status(b.url);
      assert.equal(statusB.replica?.role, 'follower');
      assert.notEqual(statusB.replica?.id, leaderId);
      // The follower is ready once it has loaded what the leader wrote, and live while its lease rounds go on.
      for (const { url } of [a, b]) {
        assert.equal((await request(`${url}/readyz`)).status, 200, url);
        assert.equal((await request(`${url}/livez`)).status, 200, url);
      }
      // Longer than 3 lease TTLs without a sweep of its own: the follower is still live.
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      const followerLive = await request(`${b.url}/livez`);
      assert.equal(followerLive.status, 200, followerLive.text);
      assert.match(followerLive.text, /lease loop is running \(follower\)/);

      a.cli.child.kill('SIGTERM');
      assert.equal((await a.cli.exited).code, 0);
      const [, newLeader] = await b.cli.waitForLine(/INFO +leading as (\S+)$/, 15_000);
      assert.equal(newLeader, statusB.replica?.id);
      assert.equal((await status(b.url)).replica?.role, 'leader');

      // One role line per change, in the order they happened; JSON fields for machines.
      const roleLines = b.cli
        .stdout()
        .split('\n')
        .filter((line) => /INFO +(leading|following)/.test(line))
        .map((line) => line.replace(/^\S+ +INFO +/, '').replace(/ as \S+$/, ' as <id>'));
      assert.deepEqual(roleLines, [`following ${leaderId}`, 'leading as <id>']);
      b.cli.child.kill('SIGTERM');
      assert.equal((await b.cli.exited).code, 0);
    },
  );

  it(
    'with shards: logs each member and its share, and /api/status gives the share, the total and the members',
    { timeout: 90_000 },
    async () => {
      const file = join(dir, 'sharded.json');
      await writeFile(
        file,
        JSON.stringify({
          pollInterval: '1s',
          checkTimeout: '500ms',
          redis: { key: `ops-shards-${process.pid}`, leaseTtl: '2s', shards: true },
          providers: Array.from({ length: 20 }, (_, i) => ({
            name: `db-${i}`,
            type: 'tcp',
            host: '127.0.0.1',
            port: targetPort,
          })),
        }),
      );
      const a = await replica(file);
      await a.cli.waitForLine(/INFO +polling its share as a member/, 15_000);
      await a.cli.waitForLine(/INFO +share: polling 20 of 20 providers \(1 member;/, 15_000);
      const b = await replica(file);
      await b.cli.waitForLine(/INFO +polling its share as a member/, 15_000);
      // Both members see each other: their shares add up to the whole.
      const [, sizeB] = await b.cli.waitForLine(
        /INFO +share: polling (\d+) of 20 providers \(2 members;/,
        15_000,
      );
      const [, sizeA] = await a.cli.waitForLine(
        /INFO +share: polling (\d+) of 20 providers \(2 members;/,
        15_000,
      );
      assert.equal(Number(sizeA) + Number(sizeB), 20);
      const statusB = await status(b.url);
      assert.equal(statusB.replica?.role, 'member');
      assert.equal(statusB.replica?.mode, 'sharded');
      assert.equal(statusB.replica?.total, 20);
      assert.equal(statusB.replica?.members?.length, 2);
      assert.ok(statusB.replica?.members?.includes(statusB.replica.id));
      for (const { cli } of [a, b]) {
        cli.child.kill('SIGTERM');
        assert.equal((await cli.exited).code, 0);
      }
    },
  );
});
