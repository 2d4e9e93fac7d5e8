import type { HealthEvent } from './events.js';
import type { Labels } from './labels.js';

/**
 * Where a cache learns which providers are silenced (`HealthCacheOptions.silences`).
 * The cache asks at every commit and asks again for every provider when
 * {@link onChange} fires. `provider-health/quiet` builds one from silences and
 * maintenance windows; the core knows nothing of either.
 */
export interface SilenceSource {
  /**
   * The ids of the silences and maintenance windows in force for this provider
   * now, sorted; empty when none. No side effects; called often, so keep it cheap.
   */
  silencedBy(name: string, labels: Labels): readonly string[];
  /** Fires whenever the answer may have changed: a silence added, started, ended; a window opened or closed. */
  readonly onChange: HealthEvent<void>;
}
