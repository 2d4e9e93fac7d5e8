import { redactSecrets } from '../../messages.js';
import type { ExtraVerdict } from './outcome.js';
import type { Answer } from './request.js';

/**
 * The Nomad checker's opt-in `autopilot` check: `GET
 * /v1/operator/autopilot/health` (ACL: `operator:read`). Nomad answers 200
 * when the servers are healthy and 429 with the same body when they are not.
 * `Healthy: false` is unhealthy; `FailureTolerance: 0` (losing one more server
 * loses quorum) is `degraded`; an answer that cannot be read (a 403, another
 * status, no report) is `degraded`, since the agent itself answered.
 * @internal
 */

/** The path asked. */
export const AUTOPILOT_PATH = 'v1/operator/autopilot/health';
/** Bytes read of the answer (about 300 bytes per server). */
export const MAX_AUTOPILOT_BYTES = 256 * 1024;
/** Server names kept in the message and details. */
const MAX_NAMES = 10;

/** What the autopilot answer adds to the agent's verdict. */
export type AutopilotVerdict = ExtraVerdict;

function names(servers: readonly unknown[]): string[] {
  return servers
    .filter((server) => (server as { Healthy?: unknown } | null)?.Healthy === false)
    .map((server) => {
      const name = (server as { Name?: unknown }).Name;
      return typeof name === 'string' && name !== '' ? redactSecrets(name).slice(0, 100) : 'unnamed';
    });
}

function listed(all: readonly string[]): string {
  const shown = all.slice(0, MAX_NAMES).join(', ');
  return all.length > MAX_NAMES ? `${shown} and ${all.length - MAX_NAMES} more` : shown;
}

/** Judges the answer to `GET /v1/operator/autopilot/health`. */
export function judgeAutopilot(answer: Answer): AutopilotVerdict {
  let body: unknown;
  try {
    body = answer.status === 200 || answer.status === 429 ? JSON.parse(answer.body) : undefined;
  } catch {
    body = undefined;
  }
  const report = body as { Healthy?: unknown; FailureTolerance?: unknown; Servers?: unknown } | undefined;
  if (typeof report !== 'object' || report === null || typeof report.Healthy !== 'boolean') {
    const status = `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
    const why =
      answer.status === 401 || answer.status === 403
        ? ': the ACL token lacks operator:read (or was rejected)'
        : answer.status === 200 || answer.status === 429
          ? ', but not an autopilot health report'
          : '';
    return { details: {}, degraded: `autopilot: /${AUTOPILOT_PATH} answered ${status}${why}` };
  }
  const servers = Array.isArray(report.Servers) ? report.Servers : [];
  const unhealthyServers = names(servers);
  const tolerance = typeof report.FailureTolerance === 'number' ? report.FailureTolerance : undefined;
  const details = {
    autopilot: {
      healthy: report.Healthy,
      failureTolerance: tolerance,
      servers: servers.length,
      unhealthyServers: unhealthyServers.slice(0, MAX_NAMES),
    },
  };
  if (!report.Healthy) {
    const which = unhealthyServers.length > 0 ? `: unhealthy servers ${listed(unhealthyServers)}` : '';
    return { details, unhealthy: `autopilot reports the servers unhealthy${which}` };
  }
  if (tolerance === 0) {
    return {
      details,
      degraded: 'autopilot: failure tolerance 0 (losing one more server loses quorum)',
    };
  }
  return { details };
}
