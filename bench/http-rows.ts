// The `rows` section of bench/http.bench.ts: what building the JSON rows of
// 10,000 providers costs per provider, the former way (statusToJSON, the
// nine 24h/7d/30d fields, JSON.stringify) against the current list rows
// (three uptimes, written straight from the status) in the same run, and the list size.
import { loadavg } from 'node:os';
import { WINDOW_FIELDS, windowsToJSON } from '../src/history-json.js';
import { plainDetails } from '../src/http/plain-json.js';
import { pick } from '../src/http/provider-list.js';
import { DETAIL_FIELDS, fieldMask, providerToJSON } from '../src/http/provider-json.js';
import { WIRE_FIELDS } from '../src/http/providers-query.js';
import { listRowText } from '../src/http/list-row-text.js';
import { fieldsText, rowText } from '../src/http/row-text.js';
import { HealthCache, ProviderRegistry, statusToJSON } from '../src/index.js';

const PROVIDERS = 10_000;
const ROUNDS = 7;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The row as built before issue 10's lighter rows (provider-json.ts at 7ac3ed3). */
function formerRow(cache: HealthCache, name: string): Record<string, unknown> {
  const status = cache.get(name)!;
  const base = statusToJSON(status) as unknown as Record<string, unknown>;
  const labels = cache.registry.labels(name);
  if (labels !== status.labels && cache.registry.has(name)) {
    delete base['labels'];
    if (Object.keys(labels).length > 0) base['labels'] = labels;
  }
  const json: Record<string, unknown> = {
    ...base,
    samples: status.history.samples,
    ...windowsToJSON(cache.windows(name)),
  };
  if (json['details']) json['details'] = plainDetails(json['details'] as Record<string, unknown>);
  return json;
}

/** Median µs per provider of `build` over every provider, and the bytes of the list it makes. */
function measure(names: readonly string[], build: (name: string) => string): { us: number; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const texts = names.map(build);
    const body = `[${texts.join(',')}]`;
    times.push(((performance.now() - started) * 1000) / names.length);
    bytes = Buffer.byteLength(body);
  }
  times.sort((a, b) => a - b);
  return { us: times[Math.floor(ROUNDS / 2)]!, bytes };
}

export async function rows(): Promise<void> {
  const registry = new ProviderRegistry();
  for (let i = 0; i < PROVIDERS; i++) {
    registry.register(`provider-${String(i).padStart(5, '0')}`, {
      healthCheck: async () => ({
        healthy: i % 17 !== 0,
        degraded: i % 5 === 0,
        message: `checked provider ${i}`,
        latency: 5 + (i % 40),
      }),
    });
  }
  const cache = new HealthCache(registry, { pollInterval: 3_600_000 });
  for (let i = 0; i < 5; i++) await cache.checkNow();
  const names = registry.names();
  const FIELDS = ['name', 'state', 'message'];
  const mask = fieldMask(FIELDS);
  // The list fields but no window field: what HealthCache.windows() costs a list row.
  const noWindows = fieldMask(
    WIRE_FIELDS.filter((field) => !(WINDOW_FIELDS as readonly string[]).includes(field)),
  );
  console.log(
    `\nJSON rows of ${fmt(PROVIDERS)} providers with history, built and joined (median of ${ROUNDS} rounds; load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')})`,
  );
  const cases: [string, (name: string) => string][] = [
    ['former list row (9 window fields, JSON.stringify)', (name) => JSON.stringify(formerRow(cache, name))],
    ['list row, JSON.stringify', (name) => JSON.stringify(providerToJSON(cache, name))],
    ['list row object, rowText', (name) => rowText(providerToJSON(cache, name))],
    ['list row from the status (current)', (name) => listRowText(cache, cache.get(name)!)],
    ['list row without window fields, rowText', (name) => rowText(providerToJSON(cache, name, noWindows))],
    [
      'detail row, rowText (/api/providers/{name})',
      (name) => rowText(providerToJSON(cache, name, DETAIL_FIELDS)),
    ],
    [
      'former ?fields=name,state,message (cut)',
      (name) => JSON.stringify(pick(formerRow(cache, name) as never, FIELDS)),
    ],
    [
      '?fields=name,state,message (current)',
      (name) => fieldsText(providerToJSON(cache, name, mask) as never, FIELDS),
    ],
  ];
  // Warm-up so the first case does not pay for the JIT.
  for (const [, build] of cases) measure(names.slice(0, 1_000), build);
  const results = cases.map(([label, build]) => [label, measure(names, build)] as const);
  const former = results[0]![1];
  for (const [label, { us, bytes }] of results) {
    console.log(
      `  ${label.padEnd(48)}: ${fmt(us, 2)} µs a provider (${fmt(us / former.us, 2)}x former), list ${fmt(bytes)} bytes`,
    );
  }
}
