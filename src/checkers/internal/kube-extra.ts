import { redactSecrets } from '../../messages.js';
import type { ExtraVerdict } from './outcome.js';
import { CheckFailure, type Answer } from './request.js';

/**
 * The Kubernetes checker's opt-in checks, each one request more after a
 * ready `/readyz`: `livez` (`GET /livez?verbose`: a failing liveness check is
 * unhealthy) and `nodes` (`GET /api/v1/nodes`: NotReady nodes are
 * `degraded`, named). A 401 is unhealthy (the credentials were rejected); a
 * 403 is `degraded` and names the missing permission.
 * @internal
 */

/** The node list asked (one page: the first 500 nodes). */
export const NODES_PATH = 'api/v1/nodes?limit=500';
/** Bytes read of the node list (a node is about 5–15 KB of JSON). */
export const MAX_NODES_BYTES = 16 * 1024 * 1024;
/** Node names kept in the message and in `details.nodes.notReady`. */
const MAX_NAMES = 10;

/** Makes one GET to the API server; `maxBodyBytes` defaults to the request's. */
export type Get = (path: string, maxBodyBytes?: number) => Promise<Answer>;

function status(answer: Answer): string {
  return `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
}

/** `[-]etcd failed: reason withheld` lines of a verbose `/readyz` or `/livez`, at most five. */
export function failingChecks(body: string): string[] {
  const lines = body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('[-]'))
    .map((line) => (line.length > 120 ? `${line.slice(0, 119)}…` : line));
  return lines.length > 5 ? [...lines.slice(0, 5), `and ${lines.length - 5} more`] : lines;
}

/** Judges `GET /livez?verbose`. */
export function judgeLivez(answer: Answer): ExtraVerdict {
  if (answer.status === 200) return { details: { live: true } };
  if (answer.status === 401) return { details: {}, unhealthy: 'authentication failed (401) reading /livez' };
  if (answer.status === 403) {
    return {
      details: {},
      degraded: 'not authorised (403) to read /livez: the user needs get on the non-resource URL /livez',
    };
  }
  const failing = failingChecks(answer.body);
  return {
    details: { live: false, ...(failing.length > 0 ? { livezFailing: failing } : {}) },
    unhealthy: `not live (${status(answer)})${failing.length > 0 ? `: ${failing.join('; ')}` : ''}`,
  };
}

interface NodeList {
  items?: { metadata?: { name?: unknown }; status?: { conditions?: unknown } }[];
  metadata?: { continue?: unknown };
}

function isReady(node: NonNullable<NodeList['items']>[number]): boolean {
  const conditions = Array.isArray(node?.status?.conditions) ? node.status.conditions : [];
  const ready = conditions.find((condition) => (condition as { type?: unknown })?.type === 'Ready') as
    { status?: unknown } | undefined;
  return ready?.status === 'True';
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES).join(', ');
  return names.length > MAX_NAMES ? `${shown} and ${names.length - MAX_NAMES} more` : shown;
}

/** Judges `GET /api/v1/nodes`: NotReady nodes (Ready condition not `True`) make it degraded. */
export function judgeNodes(answer: Answer): ExtraVerdict {
  if (answer.status === 401) return { details: {}, unhealthy: 'authentication failed (401) listing nodes' };
  if (answer.status === 403) {
    return {
      details: {},
      degraded:
        'not authorised (403) to list nodes: the user needs the "list" verb on "nodes" (cluster-scoped, in a ClusterRole)',
    };
  }
  if (answer.status !== 200) return { details: {}, degraded: `/api/v1/nodes answered ${status(answer)}` };
  let list: NodeList | undefined;
  try {
    list = JSON.parse(answer.body) as NodeList;
  } catch {
    list = undefined;
  }
  if (typeof list !== 'object' || list === null || !Array.isArray(list.items)) {
    const why = answer.truncated ? `is larger than ${MAX_NODES_BYTES} bytes` : 'is not a NodeList';
    return { details: {}, degraded: `the node list ${why}` };
  }
  const notReady = list.items
    .filter((node) => !isReady(node))
    .map((node) => {
      const name = node?.metadata?.name;
      return typeof name === 'string' ? redactSecrets(name).slice(0, 253) : 'unnamed';
    });
  const partial = typeof list.metadata?.continue === 'string' && list.metadata.continue !== '';
  const details = {
    nodes: {
      total: list.items.length,
      notReady: notReady.slice(0, MAX_NAMES),
      ...(partial ? { partial } : {}),
    },
  };
  if (notReady.length === 0) return { details };
  const of = `${notReady.length} of ${list.items.length}${partial ? ' listed' : ''}`;
  return { details, degraded: `nodes not ready (${of}): ${listed(notReady)}` };
}

/** Runs one opt-in check; a connection failure is `degraded`, naming which check failed. */
export async function extra(
  name: string,
  run: () => Promise<Answer>,
  judge: (answer: Answer) => ExtraVerdict,
): Promise<ExtraVerdict> {
  try {
    return judge(await run());
  } catch (error) {
    if (error instanceof CheckFailure) return { details: {}, degraded: `${name}: ${error.message}` };
    throw error;
  }
}
