import { readFileSync } from 'node:fs';
import type { ProbedView, ProbeTracker } from './probes.js';
import { sendJSON } from './responses.js';
import { READ, type Route } from './route-table.js';

/** The `replica` section of `GET /api/status` (shared mode only). @internal */
export interface ReplicaJSON {
  readonly id: string;
  /** `connecting`, `leader`, `follower`, `local` (polling alone: Redis out of reach) or `idle`. */
  readonly role: string;
  /** The leading replica's id, when known (this one's own while it leads). */
  readonly leader?: string;
  /** `single` (one leader polls every provider) or `sharded`, when the cache says. */
  readonly mode?: string;
  /** How many providers this replica polls, when polling is sharded. */
  readonly share?: number;
  /** How many providers are registered, beside `share`. */
  readonly total?: number;
  /** The live members' ids, when polling is sharded. */
  readonly members?: readonly string[];
}

/**
 * `GET /api/status`: facts about the service itself, not its providers:
 * `{ "version", "started_at", "uptime_seconds", "mode": "local" | "shared",
 * "providers", "poll_interval_ms", "live", "ready", "replica"? }`. Built per
 * request from a handful of values; never cached. @internal
 */
export function statusRoute(view: ProbedView, tracker: ProbeTracker): Route {
  const version = packageVersion();
  return {
    path: ['api', 'status'],
    methods: READ,
    serve: (req, res) => {
      const uptime = process.uptime();
      const sharing = view.sharing;
      const described = view.replica;
      const leader = described?.leader ?? tracker.leader;
      const share = described?.share;
      const replica: ReplicaJSON | undefined =
        sharing === undefined
          ? undefined
          : {
              id: sharing.replicaId,
              role: view.role ?? tracker.role ?? 'idle',
              ...(described === undefined ? {} : { mode: described.mode }),
              ...(leader === undefined ? {} : { leader }),
              ...(share === undefined
                ? tracker.share === undefined
                  ? {}
                  : { share: tracker.share }
                : { share: share.size, total: share.total }),
              ...(described?.members === undefined ? {} : { members: described.members }),
            };
      sendJSON(req, res, 200, {
        version,
        started_at: new Date(Date.now() - uptime * 1000).toISOString(),
        uptime_seconds: Math.round(uptime),
        mode: sharing === undefined ? 'local' : 'shared',
        providers: view.registry.size,
        poll_interval_ms: view.options.pollInterval,
        live: tracker.live().ok,
        ready: tracker.ready().ok,
        ...(replica === undefined ? {} : { replica }),
      });
    },
  };
}

/**
 * This package's version, from the nearest package.json named
 * `provider-health` above this module (two levels up from src/http and
 * dist/http; a build elsewhere looks further up).
 */
function packageVersion(): string | undefined {
  for (const up of ['../../', '../../../', '../../../../']) {
    try {
      const text = readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8');
      const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (manifest.name === 'provider-health' && typeof manifest.version === 'string')
        return manifest.version;
    } catch {
      // Not there: look one level further up.
    }
  }
  // Bundled without its package.json: the answer says nothing rather than something wrong.
  return undefined;
}
