import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runChild } from './child.js';
import { RedisProcess, until } from './redis-process.js';
import { freePort } from './redis-server.js';

/**
 * A real Redis Cluster on loopback: `masters` masters (default 3), each with
 * one replica, made with `redis-cli --cluster create … --cluster-replicas 1
 * --cluster-yes`, a 1 s node timeout and no persistence. Fail over a slot's
 * master with {@link RedisClusterSetup.failover} (CLUSTER FAILOVER on its
 * replica) or {@link RedisClusterSetup.killMasterOf}.
 */
export class RedisClusterSetup {
  readonly nodes: RedisProcess[];
  readonly #dir: string;

  private constructor(dir: string, nodes: RedisProcess[]) {
    this.#dir = dir;
    this.nodes = nodes;
  }

  /** Starts the nodes, creates the cluster and waits (at most 30 s) until every node reports `cluster_state:ok`. */
  static async start(masters = 3): Promise<RedisClusterSetup> {
    const dir = await mkdtemp(join(tmpdir(), 'provider-health-cluster-'));
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < masters * 2; i++) {
      const port = await freePort();
      nodes.push(
        new RedisProcess('redis-server', port, [
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          ...['--dir', dir, '--loglevel', 'warning', '--cluster-enabled', 'yes'],
          ...['--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000'],
          ...['--dbfilename', `dump-${port}.rdb`],
        ]),
      );
    }
    const setup = new RedisClusterSetup(dir, nodes);
    try {
      await Promise.all(nodes.map((node) => node.start()));
      const created = await runChild('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      if (created.code !== 0)
        throw new Error(`redis-cli --cluster create failed: ${created.stdout.slice(-500)}`);
      await until(() => setup.#allOk(), 30_000, 'cluster_state:ok on every node');
      await until(() => setup.#replicated(), 30_000, 'a replica for every master');
    } catch (error) {
      await setup.stop();
      throw error;
    }
    return setup;
  }

  /** Seed nodes as `host:port` strings, for the `redis.cluster` option. */
  get seeds(): string[] {
    return this.nodes.slice(0, 2).map((node) => `127.0.0.1:${node.port}`);
  }

  /** A plain connection to a live node (for CLUSTER commands). */
  connect(port: number): Redis {
    return new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, connectTimeout: 1_000 }).on(
      'error',
      () => {},
    );
  }

  /** The ports of the master serving `key`'s slot and of its replica. */
  async ownersOf(key: string): Promise<{ master: number; replica: number | undefined }> {
    const client = this.connect(this.nodes.find((node) => node.alive)!.port);
    try {
      const slot = (await client.call('CLUSTER', 'KEYSLOT', key)) as number;
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number][]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      const [, , master, replica] = range;
      return { master: Number(master?.[1]), replica: replica === undefined ? undefined : Number(replica[1]) };
    } finally {
      client.disconnect();
    }
  }

  /** CLUSTER FAILOVER on the replica of `key`'s master; resolves with the new master's port once every node agrees. */
  async failover(key: string): Promise<number> {
    const { master, replica } = await this.ownersOf(key);
    if (replica === undefined) throw new Error('that slot has no replica');
    const client = this.connect(replica);
    try {
      await client.call('CLUSTER', 'FAILOVER');
    } finally {
      client.disconnect();
    }
    await until(
      async () => (await this.ownersOf(key)).master === replica,
      30_000,
      'the replica to take over',
    );
    await until(() => this.#allOk(), 30_000, 'cluster_state:ok after the failover');
    void master;
    return replica;
  }

  /** Kills (SIGKILL) the master of `key`'s slot; resolves with the port of its promoted replica. */
  async killMasterOf(key: string): Promise<number> {
    const { master, replica } = await this.ownersOf(key);
    if (replica === undefined) throw new Error('that slot has no replica');
    await this.nodes.find((node) => node.port === master)?.kill();
    await until(
      async () => (await this.ownersOf(key)).master === replica,
      30_000,
      'the replica to be promoted',
    );
    return replica;
  }

  /** Kills every node and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #replicated(): Promise<boolean> {
    const client = this.connect(this.nodes[0]!.port);
    try {
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as unknown[][];
      return ranges.every((range) => range.length >= 4);
    } finally {
      client.disconnect();
    }
  }

  async #allOk(): Promise<boolean> {
    for (const node of this.nodes.filter((n) => n.alive)) {
      const client = this.connect(node.port);
      try {
        if (!(await client.call('CLUSTER', 'INFO'))?.toString().includes('cluster_state:ok')) return false;
      } finally {
        client.disconnect();
      }
    }
    return true;
  }
}
