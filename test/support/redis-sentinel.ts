import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisProcess, until } from './redis-process.js';
import { freePort } from './redis-server.js';

/** Options of {@link RedisSentinelSetup.start}. */
export interface SentinelSetupOptions {
  /** The master's name in the sentinels' config. Default `"mymaster"`. */
  readonly name?: string;
  /** Sentinels (quorum is a majority). Default 3. */
  readonly sentinels?: number;
}

/**
 * A real Redis Sentinel deployment on loopback: a master, one replica and
 * (by default) three `redis-sentinel` processes monitoring them with a
 * majority quorum, a 1 s down-after and no persistence. Fail over with
 * {@link RedisSentinelSetup.failover} (SENTINEL FAILOVER) or by killing the
 * master ({@link RedisSentinelSetup.killMaster}).
 */
export class RedisSentinelSetup {
  readonly name: string;
  readonly #dir: string;
  readonly servers: RedisProcess[];
  readonly sentinels: RedisProcess[];

  private constructor(name: string, dir: string, servers: RedisProcess[], sentinels: RedisProcess[]) {
    this.name = name;
    this.#dir = dir;
    this.servers = servers;
    this.sentinels = sentinels;
  }

  /** Starts the master, its replica and the sentinels; resolves when every sentinel sees both. */
  static async start(options: SentinelSetupOptions = {}): Promise<RedisSentinelSetup> {
    const name = options.name ?? 'mymaster';
    const dir = await mkdtemp(join(tmpdir(), 'provider-health-sentinel-'));
    const [masterPort, replicaPort] = [await freePort(), await freePort()];
    const server = (port: number, extra: string[]): RedisProcess =>
      new RedisProcess('redis-server', port, [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--dir', dir, '--loglevel', 'warning', '--dbfilename', `dump-${port}.rdb`, ...extra],
      ]);
    const master = server(masterPort, []);
    const replica = server(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
    const sentinels: RedisProcess[] = [];
    const count = options.sentinels ?? 3;
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          'loglevel warning',
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(new RedisProcess('redis-sentinel', port, [file]));
    }
    const setup = new RedisSentinelSetup(name, dir, [master, replica], sentinels);
    try {
      await master.start();
      await replica.start();
      await Promise.all(sentinels.map((sentinel) => sentinel.start()));
      await setup.#settled(masterPort);
    } catch (error) {
      await setup.stop();
      throw error;
    }
    return setup;
  }

  /** The sentinels as `host:port` strings, for the `redis.sentinels` option. */
  get addresses(): string[] {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`);
  }

  /** The port of the current master, as the first live sentinel reports it. */
  async masterPort(): Promise<number> {
    for (const sentinel of this.sentinels.filter((s) => s.alive)) {
      const client = this.#sentinelClient(sentinel.port);
      try {
        const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', this.name)) as
          string[] | null;
        if (reply) return Number(reply[1]);
      } catch {
        // Try the next sentinel.
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no sentinel knows the master');
  }

  /** SENTINEL FAILOVER, then waits (at most 30 s) until every sentinel names the new master and it accepts writes. */
  async failover(): Promise<number> {
    const before = await this.masterPort();
    const client = this.#sentinelClient(this.sentinels[0]!.port);
    try {
      await client.call('SENTINEL', 'failover', this.name);
    } finally {
      client.disconnect();
    }
    return await this.#newMaster(before);
  }

  /** Kills the master (SIGKILL); resolves with the new master's port once the sentinels promoted the replica. */
  async killMaster(): Promise<number> {
    const before = await this.masterPort();
    await this.servers.find((server) => server.port === before)?.kill();
    return await this.#newMaster(before);
  }

  /** Kills every process and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((process) => process.kill()));
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #newMaster(before: number): Promise<number> {
    let after = before;
    await until(
      async () => {
        after = await this.masterPort();
        if (after === before) return false;
        const master = new Redis({
          port: after,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        try {
          return (await master.info('replication')).includes('role:master');
        } finally {
          master.disconnect();
        }
      },
      30_000,
      'the sentinels to promote a new master',
    );
    return after;
  }

  async #settled(masterPort: number): Promise<void> {
    await until(
      async () => {
        for (const sentinel of this.sentinels) {
          const client = this.#sentinelClient(sentinel.port);
          try {
            const master = (await client.call('SENTINEL', 'master', this.name)) as string[];
            const fields = new Map<string, string>();
            for (let i = 0; i + 1 < master.length; i += 2) fields.set(master[i]!, master[i + 1]!);
            if (fields.get('port') !== String(masterPort) || fields.get('num-slaves') !== '1') return false;
            if (Number(fields.get('num-other-sentinels')) !== this.sentinels.length - 1) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      30_000,
      'the sentinels to see the master, its replica and each other',
    );
  }

  #sentinelClient(port: number): Redis {
    return new Redis({
      port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      lazyConnect: false,
    }).on('error', () => {});
  }
}
