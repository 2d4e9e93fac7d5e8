// What a follower's reload costs per lease round: the read script (HMGET of
// its providers in chunks of 1,000) plus the mirror's parse and compare of
// every record, against records a real leader wrote. Used by redis.bench.ts.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ProviderRegistry, systemClock } from '../src/index.js';
import { SharedHealthCache } from '../src/redis/index.js';
import { sharedKeys } from '../src/redis/keys.js';
import { LocalView } from '../src/redis/local-view.js';
import { Mirror } from '../src/redis/mirror.js';
import { DEFAULT_MAX_CLOCK_SKEW } from '../src/redis/options.js';
import { StatusStore } from '../src/redis/store.js';
import { RedisTrouble } from '../src/redis/trouble.js';

/** One provider count's figures, per follower round (medians). */
export interface ReloadFigures {
  readonly providers: number;
  readonly scriptCalls: number;
  readonly hmgetCalls: number;
  readonly replyBytes: number;
  readonly loadMs: number;
  readonly applyMs: number;
  /** The first round of a new follower: every record restored, not just compared. */
  readonly firstApplyMs: number;
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function calls(redis: Redis, command: string): Promise<number> {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await redis.info('commandstats'));
  return Number(match?.[1] ?? 0);
}

/** A leader writes `providers` records once; then `rounds` follower reloads are timed. */
export async function reloadCost(url: string, providers: number, rounds: number): Promise<ReloadFigures> {
  const registry = new ProviderRegistry();
  for (let i = 0; i < providers; i++)
    registry.register(`provider-${i}`, { healthCheck: () => ({ healthy: true }) });
  const key = `reload-${providers}`;
  const redis = new Redis(url);
  try {
    const leader = new SharedHealthCache(registry, {
      redis: url,
      key,
      replicaId: 'leader',
      pollInterval: 60_000,
    });
    const stop = new AbortController();
    const running = leader.run(stop.signal);
    const deadline = Date.now() + 60_000;
    while ((await redis.hlen(`${key}:statuses`)) < providers) {
      if (Date.now() > deadline) throw new Error(`the leader did not write ${providers} records within 60 s`);
      await sleep(50);
    }
    stop.abort();
    await running;
    leader.dispose();

    const store = new StatusStore(redis, sharedKeys(key), { clock: systemClock, timeout: 30_000 });
    const view = new LocalView(registry, { pollInterval: 60_000 }, () => {});
    const trouble = new RedisTrouble(systemClock, [], () => {});
    const mirror = new Mirror(
      view,
      systemClock,
      { ...view.cache.options, maxClockSkew: DEFAULT_MAX_CLOCK_SKEW },
      trouble,
    );
    const names = registry.names();
    const loadMs: number[] = [];
    const applyMs: number[] = [];
    let firstApplyMs = 0;
    let replyBytes = 0;
    const evalsha0 = await calls(redis, 'evalsha');
    const hmget0 = await calls(redis, 'hmget');
    for (let round = 0; round <= rounds; round++) {
      const t0 = performance.now();
      const loaded = await store.load(names);
      const t1 = performance.now();
      mirror.applyLoad(loaded);
      const t2 = performance.now();
      if (round === 0) {
        firstApplyMs = t2 - t1;
        replyBytes = [...loaded.records.values()].reduce((sum, text) => sum + (text?.length ?? 0), 0);
        continue;
      }
      loadMs.push(t1 - t0);
      applyMs.push(t2 - t1);
    }
    if (view.cache.snapshot().length !== providers)
      throw new Error('the mirror did not restore every record');
    const scriptCalls = ((await calls(redis, 'evalsha')) - evalsha0) / (rounds + 1);
    const hmgetCalls = ((await calls(redis, 'hmget')) - hmget0) / (rounds + 1);
    view.dispose();
    await redis.del(`${key}:statuses`);
    return {
      providers,
      scriptCalls,
      hmgetCalls,
      replyBytes,
      loadMs: median(loadMs),
      applyMs: median(applyMs),
      firstApplyMs,
    };
  } finally {
    redis.disconnect();
  }
}
