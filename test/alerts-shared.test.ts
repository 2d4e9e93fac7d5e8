// Shared mode, exactly once: three `provider-health serve` processes (the
// built CLI) share a real redis-server. An upstream fails: each rule's firing
// reaches a Standard Webhooks receiver (signatures checked with the reference
// library) under one webhook-id; the leader is killed with SIGKILL while the
// receiver holds its firing; the next leader delivers what was due with the
// same ids and nothing twice; the upstream recovers: exactly one resolved per
// rule; no id is ever used for two different events.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { cliEnv, startCli, waitUntil, type CliProcess } from './support/cli.js';
import { close, listen } from './support/listen.js';
import { startReceiver, type Receiver } from './support/receivers.js';
import { RedisServer } from './support/redis-server.js';

const SECRET = `whsec_${Buffer.from('shared-alerts-signing-key-32byte').toString('base64')}`;

interface Delivered {
  readonly id: string;
  readonly type: string;
  readonly rule: string;
  readonly incident: string;
  readonly reminder: number;
}

/** Every request, verified with the reference library (a bad signature throws). */
function delivered(receiver: Receiver): Delivered[] {
  const hook = new Webhook(SECRET);
  return receiver.received.map(({ body, headers }) => {
    const parsed = hook.verify(body, {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    }) as Omit<Delivered, 'id'> & { id: string };
    assert.equal(parsed.id, headers['webhook-id'], 'the body names its webhook-id');
    const { type, rule, incident, reminder } = parsed;
    return { id: String(headers['webhook-id']), type, rule, incident, reminder };
  });
}

const role = (cli: CliProcess): string | undefined =>
  [...cli.stdout().matchAll(/redis: this replica is now (\w+)/g)].at(-1)?.[1];

describe('alerts in shared mode: exactly once across three replicas', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let dir: string;
  let receiver: Receiver;
  let upstream: ReturnType<typeof createServer>;
  let upstreamPort: number;
  let failing = false;
  const replicas: CliProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'ph-alerts-shared-'));
    receiver = await startReceiver({ status: 200 });
    upstream = createServer((_req, res) => res.writeHead(failing ? 500 : 200).end(failing ? 'down' : 'ok'));
    upstreamPort = await listen(upstream);
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.kill()));
    await receiver.close();
    await close(upstream);
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('one firing per rule, a SIGKILLed leader mid-delivery, one resolved per rule', async () => {
    const file = join(dir, 'ph.yaml');
    await writeFile(
      file,
      `pollInterval: 500ms
checkTimeout: 400ms
redis: { url: "${redis.url}", key: alerts-shared, leaseTtl: 1500ms }
providers:
  - { name: api, type: http, url: "http://127.0.0.1:${upstreamPort}/api", labels: { env: prod } }
  - { name: web, type: http, url: "http://127.0.0.1:${upstreamPort}/web" }
notifiers:
  - { name: ops, type: webhook, url: "${receiver.url}/hook", secret: "${SECRET}" }
alerts:
  - { name: all-down, groupWait: 1s, notify: [ops] }
  - { name: prod-down, selector: env=prod, groupWait: 1s, notify: [ops] }
`,
    );
    for (let i = 0; i < 3; i++) {
      const cli = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir }) });
      replicas.push(cli);
      await cli.waitForLine(/listening on/);
    }
    await waitUntil(() => replicas.filter((r) => role(r) === 'leader').length === 1, 'one leader', 20_000);
    await waitUntil(() => replicas.every((r) => role(r) !== undefined), 'every replica has a role', 20_000);
    await delay(1500); // a few sweeps: every provider healthy everywhere

    // The receiver holds the first firing: the leader is killed while delivering it.
    receiver.script.push('hang');
    failing = true;
    await receiver.waitFor(1, 30_000);
    const leader = replicas.find((r) => role(r) === 'leader');
    assert.ok(leader, 'a leader sent it');
    await leader.kill();
    const survivors = replicas.filter((r) => r !== leader);
    await waitUntil(() => survivors.some((r) => role(r) === 'leader'), 'a new leader', 20_000);
    await receiver.waitFor(3, 30_000);
    await delay(3000); // time for anything sent twice to arrive
    const firing = delivered(receiver);
    assert.ok(
      firing.every((d) => d.type === 'firing'),
      JSON.stringify(firing),
    );
    const firstId = firing[0]!.id;
    const idsOf = (rule: string) => new Set(firing.filter((d) => d.rule === rule).map((d) => d.id));
    assert.equal(idsOf('all-down').size, 1, 'one webhook-id for all-down');
    assert.equal(idsOf('prod-down').size, 1, 'one webhook-id for prod-down');
    assert.deepEqual([...new Set(firing.map((d) => d.rule))].sort(), ['all-down', 'prod-down']);
    assert.equal(
      firing.filter((d) => d.id === firstId).length,
      2,
      'the firing in flight when the leader died is delivered again, with the same webhook-id',
    );
    assert.equal(firing.length, 3, "the other rule's firing once: it was due, never delivered twice");

    // Every replica answers /api/alerts from the shared state.
    const newLeader = survivors.find((r) => role(r) === 'leader')!;
    const url = (cli: CliProcess) => /listening on (\S+)/.exec(cli.stdout())![1]!;
    for (const cli of survivors) {
      let firingRules: string[] = [];
      for (let i = 0; i < 40 && firingRules.length < 2; i++) {
        const answer = (await (await fetch(`${url(cli)}/api/alerts`)).json()) as {
          firing: { rule: string }[];
        };
        firingRules = answer.firing.map((f) => f.rule).sort();
        if (firingRules.length < 2) await delay(250);
      }
      assert.deepEqual(
        firingRules,
        ['all-down', 'prod-down'],
        `${cli === newLeader ? 'leader' : 'follower'} /api/alerts`,
      );
    }

    failing = false;
    await receiver.waitFor(5, 30_000);
    await delay(3000);
    const all = delivered(receiver);
    const resolved = all.filter((d) => d.type === 'resolved');
    assert.deepEqual(
      resolved.map((d) => d.rule).sort(),
      ['all-down', 'prod-down'],
      'exactly one resolved per rule',
    );
    assert.equal(all.length, 5, JSON.stringify(all));
    // No id names two different events.
    const events = new Map<string, string>();
    for (const d of all) {
      const event = JSON.stringify([d.type, d.rule, d.incident, d.reminder]);
      assert.equal(events.get(d.id) ?? event, event, `webhook-id ${d.id} reused for another event`);
      events.set(d.id, event);
    }
    for (const d of resolved) {
      const fired = all.find((f) => f.type === 'firing' && f.rule === d.rule)!;
      assert.equal(d.incident, fired.incident, 'the resolved names the incident that fired');
    }
    // Only leaders sent: a replica that never led logged no delivery.
    for (const cli of survivors.filter((r) => !/is now leader/.test(r.stdout())))
      assert.doesNotMatch(cli.stdout(), /alerts: ops \(webhook\) \w+ \S+ \S+ sent/);
  });
});
