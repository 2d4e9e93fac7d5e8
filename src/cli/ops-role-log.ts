/**
 * One log line per change of what this replica does in shared mode, for
 * people reading the log of a replica set: `leading`, `following <replica>`,
 * `polling alone`, with the share of providers it polls when sharded.
 * (serve-log.ts logs the Redis state machine's own transitions and reasons.)
 */
import { toDisposable, type Disposable } from '../index.js';
import type { RoleNews } from '../http/probes.js';
import type { Logger } from './logger.js';
import type { ServedView } from './view.js';

/** A shared view as far as this log reads it; `leader` and `share` are picked up when the cache reports them. */
type RoleView = Pick<ServedView, 'onRoleChange' | 'onShareChange'> & {
  readonly sharing?: { readonly replicaId: string };
};

/** Subscribes the role lines to `view`; nothing for a local cache. Dispose to stop. */
export function logRoles(view: RoleView, log: Logger): Disposable {
  const onRoleChange = view.onRoleChange;
  if (onRoleChange === undefined) return toDisposable(() => {});
  const self = view.sharing?.replicaId;
  let last = '';
  const subscription = onRoleChange((change) => {
    const news = change as RoleNews;
    const line = roleLine(news, self);
    if (line === undefined || line.text === last) return;
    last = line.text;
    const fields = { role: line.role, replica: self, leader: line.leader, share: news.share };
    if (line.role === 'alone') log.warn(line.text, fields);
    else log.info(line.text, fields);
  });
  // Sharded: one line each time the share moves (a member joined or left, providers changed).
  const shares = view.onShareChange?.(({ size, total, members, gained, lost }) => {
    const names = `${members.length} member${members.length === 1 ? '' : 's'}`;
    log.info(`share: polling ${size} of ${total} providers (${names}; +${gained} −${lost})`, {
      share: size,
      total,
      members: members.length,
    });
  });
  return toDisposable(() => {
    subscription.dispose();
    shares?.dispose();
  });
}

/** The line for a role, or `undefined` for the passing ones (`connecting`, `idle`). */
export function roleLine(
  change: RoleNews,
  self: string | undefined,
):
  | { text: string; role: 'leading' | 'following' | 'member' | 'alone'; leader: string | undefined }
  | undefined {
  const share =
    typeof change.share === 'number'
      ? `, polling ${change.share} provider${change.share === 1 ? '' : 's'} (its share)`
      : '';
  if (change.role === 'leader') {
    return {
      text: `leading${self === undefined ? '' : ` as ${self}`}${share}`,
      role: 'leading',
      leader: self,
    };
  }
  if (change.role === 'follower') {
    const leader = change.leader;
    return {
      text: `following ${leader ?? 'the replica holding the lease'}${share}`,
      role: 'following',
      leader,
    };
  }
  if (change.role === 'member') {
    return {
      text: `polling its share as a member${self === undefined ? '' : ` (${self})`}${share}`,
      role: 'member',
      leader: undefined,
    };
  }
  if (change.role === 'local') {
    return { text: `polling alone: Redis is out of reach`, role: 'alone', leader: undefined };
  }
  return undefined;
}
