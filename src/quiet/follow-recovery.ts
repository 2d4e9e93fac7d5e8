import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import type { Labels } from '../labels.js';
import type { HealthState } from '../status.js';
import type { SilenceSet } from './silence-set.js';

/**
 * Ends the `endsOnRecovery` silences of `set` when their providers recover:
 * at a recovery (a provider matched by such a silence turning `healthy` or
 * `degraded` from `unhealthy`, `stale` or `unknown`), every such silence in
 * force whose matched providers (at least one) are now all healthy ends,
 * with reason `recovered`. A silence added while its providers are already
 * healthy waits for their next recovery. Costs nothing until a matched
 * provider recovers; then O(providers × such silences). Dispose to stop.
 */
export function followRecovery(set: SilenceSet, view: HealthView): Disposable {
  return view.onTransition(({ name, from, to }) => {
    if (!isUp(to) || isUp(from)) return;
    const ids = set.silencedBy(name, view.registry.labels(name));
    if (!ids.some((id) => set.get(id)?.endsOnRecovery === true)) return;
    set.expireRecovered(providersOf(view));
  });
}

function isUp(state: HealthState): boolean {
  return state === 'healthy' || state === 'degraded';
}

/** What `SilenceSet.expireRecovered` reads of a provider. */
interface RecoveryCandidate {
  readonly name: string;
  readonly labels: Labels;
  readonly healthy: boolean;
}

/** Every registered provider with its labels; one without a status is not healthy yet. */
function* providersOf(view: HealthView): Generator<RecoveryCandidate> {
  const { registry } = view;
  for (const name of registry.names()) {
    yield { name, labels: registry.labels(name), healthy: view.get(name)?.healthy ?? false };
  }
}
