// Alerting benchmarks: 10,000 providers failing in one sweep produce one grouped message per
// rule and notifier; the cost of a sweep with alerting subscribed against one without, in the
// same run; and a receiver that hangs does not delay any sweep.
// Run with `npm run bench alerts` (or `node --import tsx bench/alerts.bench.ts`).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlertEngine, Alerting, validateRules } from '../src/alerts/index.js';
import type { HealthView, StatusChange } from '../src/index.js';
import { Emitter } from '../src/events.js';
import { HealthCache, ProviderRegistry } from '../src/index.js';

const N = 10_000;
const ROUNDS = 5;
const SECRET = `whsec_${Buffer.from('bench-signing-secret-of-32-bytes').toString('base64')}`;
const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** A receiver counting messages per path; `hang` never answers; `holdMs` answers 200 after that long. */
async function receiver(hang: boolean, holdMs = 0) {
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
      else if (holdMs > 0) setTimeout(() => res.writeHead(200).end('ok'), holdMs);
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

/** CPU ms (user + system) of each sweep, kept apart: less sensitive than wall time to the machine's other load. */
const cpuTimes = new Map<HealthCache, number[]>();

async function timedSweep(cache: HealthCache): Promise<number> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  await cache.checkNow();
  const used = process.cpuUsage(cpu);
  const list = cpuTimes.get(cache) ?? [];
  list.push((used.user + used.system) / 1000);
  cpuTimes.set(cache, list);
  return performance.now() - start;
}

const cpuMedian = (cache: HealthCache): number => median(cpuTimes.get(cache) ?? [0]);

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
  const [cp, ca, ch] = [cpuMedian(plain), cpuMedian(alerted), cpuMedian(hanging)];
  console.log(
    `${fmt(N, 0)} providers failing and recovering together, ${ROUNDS} rounds, groupWait ${fmt(groupWait, 0)} ms (median of fail and recover sweeps)`,
  );
  console.log(`  sweep without alerting           ${fmt(p, 2)} ms`);
  console.log(`  sweep with alerting (2 rules, 3 notifiers)  ${fmt(a, 2)} ms   ratio ${fmt(a / p, 3)}×`);
  console.log(`  sweep with alerting, receiver hanging       ${fmt(h, 2)} ms   ratio ${fmt(h / p, 3)}×`);
  console.log(
    `  CPU per sweep (median): without ${fmt(cp, 2)} ms, with ${fmt(ca, 2)} ms (ratio ${fmt(ca / cp, 3)}×), hanging ${fmt(ch, 2)} ms (ratio ${fmt(ch / cp, 3)}×)`,
  );
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
  const changes = new Emitter<StatusChange>(() => {});
  const view = {
    options: { staleAfter: 86_400_000 },
    get: () => undefined,
    snapshot: () => [],
    onChange: changes.event,
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
  const down: StatusChange[] = Array.from({ length: N }, (_, i) => ({
    name: `provider-${i}`,
    status: {
      name: `provider-${i}`,
      state: 'unhealthy',
      message: 'down',
      lastTransitionAt: at,
      checkedAt: at,
      labels: {},
      silencedBy: [],
      blockedBy: [],
    } as never,
  }));
  const up = down.map((t) => ({ ...t, status: { ...(t.status as object), state: 'healthy' } as never }));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (const t of down) changes.emit(t);
    for (const t of up) changes.emit(t);
    best = Math.min(best, performance.now() - start);
  }
  engine.dispose();
  console.log(
    `  engine alone: ${fmt(2 * N, 0)} status changes (2 rules) in ${fmt(best, 2)} ms = ${fmt((best * 1000) / (2 * N), 2)} µs each`,
  );
}

/**
 * A receiver that holds every request for a minute before answering: sweeps
 * go on every second meanwhile, interleaved with a cache without alerting
 * (the same-run baseline), and the sweep times are reported.
 */
async function hangForAMinute(): Promise<void> {
  const HOLD = 60_000;
  const slow = await receiver(false, HOLD);
  const plainState = { failing: false };
  const hungState = { failing: false };
  const plain = cacheOf(plainState);
  const hanging = cacheOf(hungState);
  for (const cache of [plain, hanging]) await cache.checkNow();
  const alerting = new Alerting(hanging, {
    notifiers: [{ name: 'ops', type: 'webhook', url: `${slow.url}/webhook`, secret: SECRET }],
    alerts: [{ name: 'all-down', notify: ['ops'] }],
    delivery: { attemptTimeout: 2 * HOLD },
  });
  let sentAfter = NaN;
  const start = performance.now();
  alerting.onDelivery((o) => {
    if (o.result === 'sent') sentAfter = performance.now() - start;
  });
  plainState.failing = hungState.failing = true;
  const times = { plain: [] as number[], hanging: [] as number[] };
  while (performance.now() - start < HOLD + 3000) {
    times.plain.push(await timedSweep(plain));
    times.hanging.push(await timedSweep(hanging));
    await sleep(1000);
  }
  const p = median(times.plain);
  const h = median(times.hanging);
  console.log(
    `\n${fmt(N, 0)} providers failing, the receiver holds the firing for ${HOLD / 1000} s before answering`,
  );
  console.log(`  ${times.hanging.length} sweeps of each during that minute (one per second, interleaved)`);
  console.log(`  without alerting  median ${fmt(p, 2)} ms, slowest ${fmt(Math.max(...times.plain), 1)} ms`);
  console.log(
    `  with alerting     median ${fmt(h, 2)} ms, slowest ${fmt(Math.max(...times.hanging), 1)} ms   ratio ${fmt(h / p, 3)}×`,
  );
  console.log(
    `  CPU per sweep (median): without ${fmt(cpuMedian(plain), 2)} ms, with ${fmt(cpuMedian(hanging), 2)} ms (ratio ${fmt(cpuMedian(hanging) / cpuMedian(plain), 3)}×)`,
  );
  console.log(
    `  the firing was delivered ${fmt(sentAfter / 1000, 1)} s after the first failing sweep; deliveries ${JSON.stringify(alerting.counts()['ops'])}`,
  );
  alerting.dispose();
  await slow.close();
}

await main();
engineAlone();
await hangForAMinute();
