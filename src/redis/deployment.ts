import { bounded, type CommandLimit } from './command.js';
import { clusterAsSingle, isCluster } from './connection.js';
import type { RedisSetupError } from './events.js';
import type { RedisClient } from './target.js';

/**
 * Whether the Redis reached is what the options claim. A Cluster node given
 * as one server answers its own slots and redirects the rest (`MOVED`):
 * sharing would seem to work until a failover moves the slot, so it is
 * refused at once, from `INFO cluster`. `undefined` when all is well or
 * when Redis cannot be asked now (the lease rounds report that). @internal
 */
export async function deploymentProblem(
  client: RedisClient,
  limit: CommandLimit,
): Promise<RedisSetupError | undefined> {
  if (isCluster(client) || client.status !== 'ready') return undefined;
  let info: string;
  try {
    info = await bounded(limit, client.info('cluster'));
  } catch {
    return undefined;
  }
  if (!/^cluster_enabled:1\s*$/m.test(info)) return undefined;
  const { host, port } = client.options;
  return clusterAsSingle(`${host ?? 'the server'}:${port ?? ''} reports cluster_enabled:1`);
}
