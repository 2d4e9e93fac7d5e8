// Selector benchmark: filtering 100,000 label sets with a parsed selector against a
// hand-written loop testing the same conditions, and against no filter at all, in the same run.
// Run with `npm run bench selector` (or `node --import tsx bench/selector.bench.ts`).
import { validateLabels, type Labels } from '../src/labels.js';
import { parseSelector } from '../src/selector.js';

const COUNT = 100_000;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** 100,000 label sets spread over 4 envs, 20 teams, 5 tiers, 50 regions; one in 10 a canary. */
function labelSets(): Labels[] {
  const envs = ['prod', 'staging', 'dev', 'test'];
  const sets: Labels[] = [];
  for (let i = 0; i < COUNT; i++) {
    const labels: Record<string, string> = {
      env: envs[i % 4]!,
      team: `team-${i % 20}`,
      tier: `t${i % 5}`,
      region: `region-${i % 50}`,
      kind: i % 3 === 0 ? 'docker' : 'kubernetes',
    };
    if (i % 10 === 0) labels.canary = '';
    sets.push(validateLabels(labels));
  }
  return sets;
}

/** Milliseconds per pass of `filter` over `sets`, best of `rounds` after one warm-up round. */
function time(
  sets: readonly Labels[],
  filter: (labels: Labels) => boolean,
  rounds = 15,
): { ms: number; count: number } {
  let best = Infinity;
  let count = 0;
  for (let round = 0; round <= rounds; round++) {
    const start = process.hrtime.bigint();
    const selected: Labels[] = [];
    for (let i = 0; i < sets.length; i++) if (filter(sets[i]!)) selected.push(sets[i]!);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    count = selected.length;
    if (round > 0) best = Math.min(best, ms);
  }
  return { ms: best, count };
}

const sets = labelSets();
const cases: { text: string; plain: (l: Labels) => boolean }[] = [
  { text: 'env=prod', plain: (l) => l.env === 'prod' },
  {
    text: 'env=prod,team!=team-3,tier in (t1,t2),!canary',
    plain: (l) =>
      l.env === 'prod' &&
      l.team !== 'team-3' &&
      (l.tier === 't1' || l.tier === 't2') &&
      l.canary === undefined,
  },
  {
    text: 'region in (region-1,region-2,region-3,region-4,region-5,region-6,region-7,region-8,region-9,region-10),kind=docker',
    plain: (l) => {
      const r = l.region;
      return r !== undefined && /^region-([1-9]|10)$/.test(r) && l.kind === 'docker';
    },
  },
];

const all = time(sets, () => true);
console.log(`Filtering ${fmt(COUNT, 0)} label sets (best of 15 passes)`);
console.log(`  no filter (copy all)       ${fmt(all.ms, 2)} ms  ${fmt(all.count, 0)} selected`);
for (const { text, plain } of cases) {
  const parseStart = process.hrtime.bigint();
  const selector = parseSelector(text);
  const parseUs = Number(process.hrtime.bigint() - parseStart) / 1e3;
  const base = time(sets, plain);
  const compiled = time(sets, (labels) => selector.matches(labels));
  if (base.count !== compiled.count)
    throw new Error(`"${text}": plain loop selected ${base.count}, selector ${compiled.count}`);
  console.log(`\n  selector ${text}`);
  console.log(`    parse                    ${fmt(parseUs, 1)} µs (first parse, cold)`);
  console.log(`    plain loop               ${fmt(base.ms, 2)} ms  ${fmt(base.count, 0)} selected`);
  console.log(
    `    Selector.matches         ${fmt(compiled.ms, 2)} ms  (${fmt((compiled.ms * 1e6) / COUNT, 1)} ns per set)`,
  );
  console.log(`    ratio to plain loop      ${fmt(compiled.ms / base.ms, 2)}x`);
  console.log(`    ratio to no filter       ${fmt(compiled.ms / all.ms, 2)}x`);
}
