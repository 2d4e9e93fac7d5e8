import type { HealthQuery } from './health-query.js';
import type { ProviderJSON } from './provider-json.js';

/** The `{name, state, message}` of a provider in a health answer. */
interface Brief {
  name: string;
  state: string;
  message: string;
}

function brief(provider: ProviderJSON): Brief {
  return { name: provider.name, state: provider.state, message: provider.message };
}

/** The `/api/health` answer over `rows` (every provider, published). @internal */
export function healthBody(
  rows: readonly ProviderJSON[],
  query: HealthQuery,
): { status: number; value: unknown } {
  const { asked, selector, includeBlocked, includeSilenced } = query;
  const wanted = asked.length === 0 ? undefined : new Set(asked);
  const notHealthy: Brief[] = [];
  const degraded: Brief[] = [];
  const blocked: (Brief & { blocked_by: readonly string[] })[] = [];
  const silenced: (Brief & { silenced_by: readonly string[] })[] = [];
  let count = 0;
  for (const row of rows) {
    if (wanted !== undefined && !wanted.has(row.name)) continue;
    if (selector !== undefined && !selector.matches(row.labels)) continue;
    count++;
    if (row.blocked_by !== undefined) blocked.push({ ...brief(row), blocked_by: row.blocked_by });
    if (row.silenced_by !== undefined) silenced.push({ ...brief(row), silenced_by: row.silenced_by });
    const excused =
      (row.blocked_by !== undefined && !includeBlocked) ||
      (row.silenced_by !== undefined && !includeSilenced);
    if (row.state === 'degraded') degraded.push(brief(row));
    else if (!row.healthy && !excused) notHealthy.push(brief(row));
  }
  const healthy = notHealthy.length === 0;
  return {
    status: healthy ? 200 : 503,
    value: { healthy, providers: count, not_healthy: notHealthy, degraded, blocked, silenced },
  };
}
