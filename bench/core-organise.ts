// Labels, dependencies and silences at fleet scale (issue 11), a section of bench/core.bench.ts:
// the CPU of a 100,000-provider sweep with labels on every provider, a 1,000-edge dependency
// graph and a SilenceSource of 100 silences, against the same sweep with none, in the same run.
import { HealthCache, ProviderRegistry, type HealthReport } from '../src/index.js';
import { SilenceSet, createSilenceSource } from '../src/quiet/index.js';

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const COUNT = 100_000;
const EDGES = 1_000;
const SILENCES = 100;
const healthy: Promise<HealthReport> = Promise.resolve({ healthy: true });
const unhealthy: Promise<HealthReport> = Promise.resolve({ healthy: false, message: 'down' });

const nameOf = (i: number) => `provider-${String(i).padStart(6, '0')}`;

/**
 * 100,000 providers answering at once from cached promises (so the sweep is
 * all bookkeeping), one in ten unhealthy. Organised: three labels each, and
 * providers 1,000–1,999 each depend on one of 0–999 (1,000 edges; some
 * failing pairs, so `blockedBy` is not always empty).
 */
function fleet(organised: boolean): ProviderRegistry {
  const registry = new ProviderRegistry();
  for (let i = 0; i < COUNT; i++) {
    const answer = i % 10 === 0 ? unhealthy : healthy;
    const provider = { healthCheck: () => answer };
    if (!organised) {
      registry.register(nameOf(i), provider);
      continue;
    }
    const labels = { env: i % 2 === 0 ? 'prod' : 'dev', team: `t${i % 20}`, region: `r${i % 5}` };
    const dependsOn = i >= EDGES && i < 2 * EDGES ? [nameOf(i - EDGES)] : undefined;
    registry.register(nameOf(i), provider, { labels, dependsOn });
  }
  return registry;
}

/** 100 silences in force, each on one team and region (so every provider is silenced by one). */
function silenceSet(): SilenceSet {
  const set = new SilenceSet({ maxSilences: SILENCES + 1 });
  for (let k = 0; k < SILENCES; k++) {
    set.add({
      matchers: `team=t${k % 20},region=r${Math.floor(k / 20)}`,
      duration: 3_600_000,
      comment: 'bench',
      createdBy: 'bench',
    });
  }
  return set;
}

/** CPU (user + system) of one `checkNow` sweep, in ms. */
async function sweepCpu(cache: HealthCache): Promise<number> {
  const before = process.cpuUsage();
  await cache.checkNow();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1_000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;

async function benchOrganised(): Promise<void> {
  const options = { pollInterval: 3_600_000, concurrency: Infinity, historySize: 10 } as const;
  const plain = new HealthCache(fleet(false), options);
  const set = silenceSet();
  const source = createSilenceSource({ silences: set });
  const organised = new HealthCache(fleet(true), { ...options, silences: source });
  const coldPlain = await sweepCpu(plain);
  const coldOrganised = await sweepCpu(organised);
  await sweepCpu(plain);
  await sweepCpu(organised);
  const times = { plain: [] as number[], organised: [] as number[] };
  // Interleaved, so that a disturbance of the shared machine hits both alike.
  for (let round = 0; round < 7; round++) {
    times.plain.push(await sweepCpu(plain));
    times.organised.push(await sweepCpu(organised));
  }
  const sample = organised.get(nameOf(EDGES + 10));
  const blocked = organised.snapshot().filter((status) => status.blockedBy.length > 0).length;
  const silenced = organised.snapshot().filter((status) => status.silencedBy.length > 0).length;
  // A silence change: every status is asked again and re-committed where its answer changed.
  const before = process.cpuUsage();
  set.add({ matchers: 'env=prod', duration: 60_000, comment: 'bench', createdBy: 'bench' });
  const change = process.cpuUsage(before);
  const changeMs = (change.user + change.system) / 1_000;

  const [p, o] = [median(times.plain), median(times.organised)];
  const [pBest, oBest] = [Math.min(...times.plain), Math.min(...times.organised)];
  console.log(
    `organised sweep: ${fmt(COUNT, 0)} providers with 3 labels each, ${fmt(EDGES, 0)} dependency edges, ${SILENCES} silences in force`,
  );
  console.log(
    `  (${fmt(blocked, 0)} statuses blocked, ${fmt(silenced, 0)} silenced; e.g. ${sample?.name} blockedBy ${JSON.stringify(sample?.blockedBy)} silencedBy 1 id)`,
  );
  console.log(
    `  CPU per sweep, median of 7 (best): none ${fmt(p, 0)} ms (${fmt(pBest, 0)}), organised ${fmt(o, 0)} ms (${fmt(oBest, 0)})`,
  );
  console.log(
    `  CPU per check: none ${fmt((p * 1_000) / COUNT, 2)} µs, organised ${fmt((o * 1_000) / COUNT, 2)} µs`,
  );
  console.log(`  ratio ${fmt(o / p, 3)} median, ${fmt(oBest / pBest, 3)} best (goal <= 1.1)`);
  console.log(
    `  first sweep (answers not yet kept by the source): none ${fmt(coldPlain, 0)} ms, organised ${fmt(coldOrganised, 0)} ms`,
  );
  console.log(
    `  a silence added (every status asked again, 50,000 re-committed): ${fmt(changeMs, 0)} ms CPU`,
  );
  plain.dispose();
  organised.dispose();
  source.dispose();
  set.dispose();
}

/** The organising sections of `bench/core.bench.ts`. */
export const organiseSections: Record<string, () => Promise<void>> = {
  organise: benchOrganised,
};
