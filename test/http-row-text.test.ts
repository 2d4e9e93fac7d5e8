import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HealthView } from '../src/health-view.js';
import { windowsToJSON, WINDOW_FIELDS } from '../src/history-json.js';
import type { Labels } from '../src/labels.js';
import { statusToJSON, type Status } from '../src/status.js';
import type { WindowSummary } from '../src/uptime-windows.js';
import { pick } from '../src/http/provider-list.js';
import {
  DETAIL_FIELDS,
  fieldMask,
  LIST_FIELDS,
  providerToJSON,
  type ProviderJSON,
} from '../src/http/provider-json.js';
import { WIRE_FIELDS } from '../src/http/providers-query.js';
import { listRowText } from '../src/http/list-row-text.js';
import { fieldsText, rowText } from '../src/http/row-text.js';

// Odd text: any UTF-16 unit (lone surrogates, control characters, quotes, backslashes, U+2028).
const text = fc.string({ unit: 'binary', maxLength: 40 });
const odd = fc.oneof(text, fc.constantFrom('', '"', '\\', '\u2028', '\ud800', '</script>', '__proto__'));
// Any double, NaN and ±Infinity included: JSON writes those as null.
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 0.1, 1e21, 5e-324));
const date = fc.date({
  min: new Date(-62_135_596_800_000),
  max: new Date(253_402_300_799_999),
  noInvalidDate: true,
});
const names = fc.uniqueArray(odd, { maxLength: 3 });
const labels: fc.Arbitrary<Labels> = fc.dictionary(fc.string({ maxLength: 8 }), odd, { maxKeys: 3 });
const figures = fc.record({ samples: fc.nat(), uptime: number, latencyP50: number, latencyP95: number });
const windows: fc.Arbitrary<WindowSummary> = fc.record({ '24h': figures, '7d': figures, '30d': figures });

const status = (name: string): fc.Arbitrary<Status> =>
  fc
    .record({
      healthy: fc.boolean(),
      message: odd,
      latency: number,
      checkedAt: date,
      state: fc.constantFrom('healthy', 'degraded', 'unhealthy', 'stale' as const),
      stale: fc.boolean(),
      consecutiveFailures: fc.nat(),
      consecutiveSuccesses: fc.nat(),
      lastSuccessAt: fc.option(date, { nil: undefined }),
      lastFailureAt: fc.option(date, { nil: undefined }),
      lastTransitionAt: date,
      history: fc.record({
        samples: fc.nat(),
        uptime: number,
        latencyP50: number,
        latencyP95: number,
        uptimeExcludingSilenced: number,
        silencedSamples: fc.nat({ max: 3 }),
      }),
      details: fc.option(fc.dictionary(odd, fc.jsonValue(), { maxKeys: 3 }), { nil: undefined }),
      labels,
      dependsOn: names,
      blockedBy: names,
      silencedBy: names,
    })
    .map((fields): Status => ({ name, ...fields }));

/** One provider as a view holds it: checked or not, relabelled since or not, windows kept or not. */
const provider = fc.record({ name: odd }).chain(({ name }) =>
  fc.record({
    name: fc.constant(name),
    status: fc.option(status(name), { nil: undefined }),
    registryLabels: fc.option(labels, { nil: undefined }),
    dependsOn: names,
    windows: fc.option(fc.option(windows, { nil: undefined }), { nil: null }),
  }),
);
type Provider = typeof provider extends fc.Arbitrary<infer T> ? T : never;

/** A view holding only `p` (`windows: null` means the view keeps none). */
function viewOf(p: Provider): HealthView {
  const registryLabels = p.registryLabels ?? p.status?.labels ?? {};
  return {
    get: (name: string) => (name === p.name ? p.status : undefined),
    registry: {
      has: (name: string) => name === p.name,
      labels: () => registryLabels,
      dependsOn: () => p.dependsOn,
    },
    ...(p.windows === null ? {} : { windows: () => p.windows ?? undefined }),
  } as unknown as HealthView;
}

/** The row as built before the lighter rows: statusToJSON, registry labels, samples, the nine window fields. */
function formerRow(p: Provider, view: HealthView): Record<string, unknown> | undefined {
  if (p.status === undefined) return undefined;
  const base = statusToJSON(p.status) as unknown as Record<string, unknown>;
  const labels = view.registry.labels(p.name);
  if (labels !== p.status.labels) {
    delete base['labels'];
    if (Object.keys(labels).length > 0) base['labels'] = labels;
  }
  const json = { ...base, samples: p.status.history.samples } as Record<string, unknown>;
  if (json['details'] !== undefined) json['details'] = JSON.parse(JSON.stringify(json['details']));
  return p.windows === null ? json : { ...json, ...windowsToJSON(p.windows) };
}

describe('row text', () => {
  it('is byte-identical to JSON.stringify of the same row, list and detail fields', () => {
    fc.assert(
      fc.property(provider, (p) => {
        const view = viewOf(p);
        for (const mask of [LIST_FIELDS, DETAIL_FIELDS]) {
          const row = providerToJSON(view, p.name, mask);
          assert.equal(rowText(row), JSON.stringify(row));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('a list row written straight from the status is the same bytes as the row object serialised', () => {
    fc.assert(
      fc.property(provider, fc.boolean(), (p, withUptimes) => {
        if (p.status === undefined) return;
        const windowsView = viewOf(p);
        // A cache's view also answers uptimes() (read from the bucket counts): the same figures.
        const view =
          withUptimes && windowsView.windows !== undefined
            ? ({
                ...windowsView,
                uptimes: (name: string) => {
                  const all = windowsView.windows?.(name);
                  return (
                    all && { '24h': all['24h'].uptime, '7d': all['7d'].uptime, '30d': all['30d'].uptime }
                  );
                },
              } as HealthView)
            : windowsView;
        assert.equal(listRowText(view, p.status), rowText(providerToJSON(view, p.name)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('detail rows are the former rows; list rows lack only the six window percentiles', () => {
    const percentiles = WINDOW_FIELDS.filter((field) => field.startsWith('latency_'));
    fc.assert(
      fc.property(provider, (p) => {
        const view = viewOf(p);
        const former = formerRow(p, view);
        if (former === undefined) return;
        assert.equal(JSON.stringify(providerToJSON(view, p.name, DETAIL_FIELDS)), JSON.stringify(former));
        for (const field of percentiles) delete former[field];
        assert.equal(JSON.stringify(providerToJSON(view, p.name)), JSON.stringify(former));
      }),
      { numRuns: 1_000 },
    );
  });

  it('?fields= rows equal the detail row cut to those fields, as JSON.stringify writes it', () => {
    const fields = fc
      .subarray([...WIRE_FIELDS], { minLength: 1 })
      .map((picked) => (picked.includes('name') ? picked : ['name', ...picked]));
    fc.assert(
      fc.property(provider, fields, (p, wanted) => {
        const view = viewOf(p);
        const detail = providerToJSON(view, p.name, DETAIL_FIELDS);
        const built = providerToJSON(view, p.name, fieldMask(wanted)) as unknown as Record<string, unknown>;
        assert.equal(fieldsText(built, wanted), JSON.stringify(pick(detail, wanted)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves undefined fields out and writes non-finite numbers as null', () => {
    const row = {
      name: 'a',
      latency: Number.NaN,
      stale: false,
      details: undefined,
    } as unknown as ProviderJSON;
    assert.equal(
      fieldsText(row as never, ['name', 'latency', 'details', 'stale']),
      '{"name":"a","latency":null,"stale":false}',
    );
  });
});
