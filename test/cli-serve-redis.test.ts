import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { groupKey } from '../src/redis/keys.js';
import { cliEnv, startCli, waitUntil, type CliProcess } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { RedisServer } from './support/redis-server.js';

/** The lines `serve` writes about `redis:`, without their timestamps. */
function redisLines(cli: CliProcess): string[] {
  return cli
    .stdout()
    .split('\n')
    .filter((line) => / redis: /.test(line))
    .map((line) => line.replace(/^\S+ /, ''));
}

/** What `serve` logs about Redis, through the built CLI and a real redis-server. */
describe('serve logs Redis trouble', () => {
  let dir = '';
  let redis: RedisServer;
  let targetPort = 0;
  let cli: CliProcess | undefined;
  const target = net.createServer((socket) => socket.destroy());

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-cli-redis-'));
    targetPort = await listen(target);
    redis = await RedisServer.start();
  });
  after(async () => {
    await cli?.kill();
    await close(target);
    await redis?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'logs its role, a repaired lease, each distinct problem of an outage once, and the recovery',
    { timeout: 60_000 },
    async () => {
      const key = `cli-log-${process.pid}`;
      const file = join(dir, 'redis.json');
      await writeFile(
        file,
        JSON.stringify({
          pollInterval: '1s',
          checkTimeout: '500ms',
          redis: { key, leaseTtl: '1s' },
          providers: [{ name: 'db', type: 'tcp', host: '127.0.0.1', port: targetPort }],
        }),
      );
      cli = startCli(['serve', '--config', file, '--port', '0'], {
        env: cliEnv({ HOME: dir, PROVIDER_HEALTH_REDIS_URL: redis.url }),
      });
      await cli.waitForLine(/listening on/);
      await cli.waitForLine(/INFO +redis: this replica is now leader \(was \w+\)/, 10_000);

      // Garbage in the lease keys: a lease held by nobody that never expires, a counter that is not a number.
      const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.set(groupKey(key, 'token'), 'not-a-number');
        await client.set(groupKey(key, 'lease'), 'ghost-replica');
      } finally {
        client.disconnect();
      }
      await cli.waitForLine(/WARN +redis: repaired the lease key \S+:lease \(lease-without-expiry\)/, 10_000);
      await cli.waitForLine(/WARN +redis: repaired the lease key \S+:token \(token-not-a-number\)/, 10_000);
      const leading = (): number =>
        redisLines(cli!).filter((line) => /this replica is now leader/.test(line)).length;
      await waitUntil(() => leading() === 2, 'leading again after the repair', 10_000);

      // An outage: Redis goes away for a few seconds.
      const before = redisLines(cli).length;
      await redis.kill();
      await cli.waitForLine(/WARN +redis: this replica is now local/, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const outage = redisLines(cli).slice(before);
      const problems = outage.filter(
        (line) => /^WARN +redis: /.test(line) && !/this replica is now/.test(line),
      );
      assert.ok(problems.length >= 1, `the outage was logged:\n${outage.join('\n')}`);
      assert.equal(
        new Set(problems).size,
        problems.length,
        `a problem logged twice:\n${problems.join('\n')}`,
      );

      await redis.restart();
      await waitUntil(
        () =>
          redisLines(cli!)
            .slice(before)
            .some((line) => /redis: this replica is now leader/.test(line)),
        'leading again after Redis is back',
        20_000,
      );
      cli.child.kill('SIGTERM');
      const result = await cli.exited;
      assert.equal(result.code, 0, result.stderr);
    },
  );
});
