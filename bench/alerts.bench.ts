// Alerting benchmarks: 10,000 providers failing in one sweep produce one grouped message per
// rule and notifier; the cost of a sweep with alerting subscribed against one without, in the
// same run; and a receiver that hangs does not delay any sweep.
// Run with `npm run bench alerts` (or `node --import tsx bench/alerts.bench.ts`).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertEngine, Alerting, validateRules } from '../src/alerts/index.js';
import type { HealthView, Transition } from '../src/index.js';
import { Emitter } from '../src/events.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';

const N = 10_000;
const ROUNDS = 5;
const SECRET = `whsec_${Buffer.from('bench-signing-secret-of-32-bytes').toString('base64')}`;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** A receiver counting messages per path; `hang` never answers. */
async function receiver(hang: boolean) {
  const counts = new Map<string, number>();
  const held: ServerResponse[] = [];
  let bytes = 0;
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      bytes = Math.max(bytes, size);
      counts.set(req.url ?? '', (counts.get(req.url ?? '') ?? 0) + 1);
      if (hang) held.push(res);
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counts,
    largest: () => bytes,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A cache of N providers that all fail or all pass, as `state.failing` says. */
function cacheOf(state: { failing: boolean }): HealthCache {
  const registry = new ProviderRegistry();
  const down = new Error('connection refused');
  for (let i = 0; i < N; i++)
    registry.register(`provider-${i}`, {
      healthCheck: () => {
        if (state.failing) throw down;
      },
    });
  return new HealthCache(registry, {
    pollInterval: 3_600_000,
    concurrency: Infinity,
    staleAfter: 86_400_000,
  });
}

function alertingFor(cache: HealthCache, url: string, groupWait: number): Alerting {
  return new Alerting(cache, {
    notifiers: [
      { name: 'ops', type: 'webhook', url: `${url}/webhook`, secret: SECRET },
      { name: 'chat', type: 'slack', url: `${url}/slack` },
      {
        name: 'pager',
        type: 'pagerduty',
        routingKey: 'bench-routing-key-0000000000000000',
        url: `${url}/pd`,
      },
    ],
    alerts: [
      { name: 'all-down', groupWait, notify: ['ops', 'chat', 'pager'] },
      { name: 'unhealthy-only', states: ['unhealthy'], groupWait, notify: ['ops'] },
    ],
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timedSweep(cache: HealthCache): Promise<number> {
  const start = performance.now();
  await cache.checkNow();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const ok = await receiver(false);
  const hung = await receiver(true);
  const plainState = { failing: false };
  const alertState = { failing: false };
  const hungState = { failing: false };
  const plain = cacheOf(plainState);
  const alerted = cacheOf(alertState);
  const hanging = cacheOf(hungState);
  for (const cache of [plain, alerted, hanging]) await cache.checkNow(); // first results: everything healthy
  // groupWait must outlast one sweep (results of one sweep arrive over its whole duration), as in
  // a real config (10 s and more): measure a failing and a recovering sweep first.
  plainState.failing = true;
  const warm = await timedSweep(plain);
  plainState.failing = false;
  const groupWait = Math.ceil(Math.max(warm, await timedSweep(plain)) * 2 + 500);
  const alerting = alertingFor(alerted, ok.url, groupWait);
  const hangingAlerts = alertingFor(hanging, hung.url, groupWait);
  const times = { plain: [] as number[], alerted: [] as number[], hanging: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const failing of [true, false]) {
      // Interleaved, so drift (GC, JIT, the other engineers' load) hits all three alike.
      plainState.failing = alertState.failing = hungState.failing = failing;
      times.plain.push(await timedSweep(plain));
      times.alerted.push(await timedSweep(alerted));
      times.hanging.push(await timedSweep(hanging));
      await sleep(groupWait + 200); // groupWait passes: the grouped message goes out between sweeps
    }
  }
  await alerting.idle();
  const p = median(times.plain);
  const a = median(times.alerted);
  const h = median(times.hanging);
  console.log(
    `${fmt(N, 0)} providers failing and recovering together, ${ROUNDS} rounds, groupWait ${fmt(groupWait, 0)} ms (median of fail and recover sweeps)`,
  );
  console.log(`  sweep without alerting           ${fmt(p, 2)} ms`);
  console.log(`  sweep with alerting (2 rules, 3 notifiers)  ${fmt(a, 2)} ms   ratio ${fmt(a / p, 3)}×`);
  console.log(`  sweep with alerting, receiver hanging       ${fmt(h, 2)} ms   ratio ${fmt(h / p, 3)}×`);
  console.log(
    `  slowest sweep: without ${fmt(Math.max(...times.plain), 1)} ms, with ${fmt(Math.max(...times.alerted), 1)} ms, hanging ${fmt(Math.max(...times.hanging), 1)} ms`,
  );
  const perRound = [...ok.counts].map(
    ([path, count]) => `${path} ${count} (${fmt(count / ROUNDS / 2, 2)} per incident edge)`,
  );
  console.log(
    `  messages received over ${ROUNDS} incidents (firing + resolved each): ${perRound.join(', ')}`,
  );
  console.log(`  expected: /webhook (2 rules) ${4 * ROUNDS}, /slack ${2 * ROUNDS}, /pd ${2 * ROUNDS}`);
  console.log(
    `  largest body ${fmt(ok.largest() / 1024, 0)} KiB (webhook lists at most 1,000 providers, the rest counted)`,
  );
  const counts = hangingAlerts.counts();
  console.log(`  hanging receiver: queued or in flight, none delivered: ${JSON.stringify(counts['ops'])}`);
  alerting.dispose();
  hangingAlerts.dispose();
  await ok.close();
  await hung.close();
}

/** The engine's own cost per transition, without the cache around it (load-independent-ish). */
function engineAlone(): void {
  const transitions = new Emitter<Transition>(() => {});
  const none = new Emitter<never>(() => {});
  const view = {
    options: { staleAfter: 86_400_000 },
    get: () => undefined,
    snapshot: () => [],
    onTransition: transitions.event,
    onRemove: none.event,
  } as unknown as HealthView;
  const rules = validateRules(
    [
      { name: 'a', groupWait: 60_000, notify: ['n'] },
      { name: 'b', states: ['unhealthy'], groupWait: 60_000, notify: ['n'] },
    ],
    new Set(['n']),
  );
  const engine = new AlertEngine(view, { rules });
  const at = new Date();
  const down = Array.from({ length: N }, (_, i) => ({
    name: `provider-${i}`,
    from: 'healthy' as const,
    to: 'unhealthy' as const,
    status: {
      name: `provider-${i}`,
      state: 'unhealthy',
      message: 'down',
      lastTransitionAt: at,
      checkedAt: at,
    } as never,
  }));
  const up = down.map((t) => ({
    ...t,
    from: 'unhealthy' as const,
    to: 'healthy' as const,
    status: { ...(t.status as object), state: 'healthy' } as never,
  }));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (const t of down) transitions.emit(t);
    for (const t of up) transitions.emit(t);
    best = Math.min(best, performance.now() - start);
  }
  engine.dispose();
  console.log(
    `  engine alone: ${fmt(2 * N, 0)} transitions (2 rules) in ${fmt(best, 2)} ms = ${fmt((best * 1000) / (2 * N), 2)} µs each`,
  );
}

await main();
engineAlone();
