// `provider-health serve` with notifiers: and alerts: (the built CLI, single
// mode): a failing provider reaches a signed-webhook receiver once; one log
// line per delivery outcome; GET /api/alerts and the metrics show it; no
// secret appears in logs, API answers or metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { cliEnv, startCli, waitUntil, type CliProcess } from './support/cli.js';
import { close, leakedSecrets, listen } from './support/listen.js';
import { startReceiver, type Receiver } from './support/receivers.js';

const SECRET = `whsec_${Buffer.from('serve-alerts-signing-key-32bytes').toString('base64')}`;
const ROUTING_KEY = 'routing-key-serve-test-abcdef0123';

describe('serve with alerting', { timeout: 90_000 }, () => {
  let dir: string;
  let receiver: Receiver;
  let pd: Receiver;
  let upstream: ReturnType<typeof createServer>;
  let port: number;
  let failing = true;
  let cli: CliProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ph-alerts-serve-'));
    receiver = await startReceiver({ status: 200 });
    pd = await startReceiver({ status: 202 });
    upstream = createServer((_req, res) => res.writeHead(failing ? 503 : 200).end());
    port = await listen(upstream);
  });
  after(async () => {
    await cli?.kill();
    await receiver.close();
    await pd.close();
    await close(upstream);
    await rm(dir, { recursive: true, force: true });
  });

  it('sends once, logs each outcome, shows it on /api/alerts and the metrics, leaks no secret', async () => {
    const file = join(dir, 'ph.yaml');
    await writeFile(
      file,
      `pollInterval: 300ms
checkTimeout: 250ms
providers:
  - { name: api, type: http, url: "http://127.0.0.1:${port}/", labels: { env: prod } }
notifiers:
  - { name: ops, type: webhook, url: "${receiver.url}/hook-secret-path-123", secret: "${SECRET}" }
  - { name: pager, type: pagerduty, routingKey: "${ROUTING_KEY}", url: "${pd.url}/pd-secret-path-456" }
alerts:
  - { name: prod-down, selector: env=prod, groupWait: 500ms, notify: [ops] }
  - { name: pager-down, notify: [pager] }
`,
    );
    // The PagerDuty receiver refuses the first event with 429 and Retry-After: 1.
    pd.script.push({ status: 429, headers: { 'retry-after': '1' } });
    cli = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir }) });
    const url = (await cli.waitForLine(/listening on (\S+)/))[1]!;
    await cli.waitForLine(
      /alerts: 2 rules \(prod-down, pager-down\) to ops \(webhook\), pager \(pagerduty\)/,
    );
    await cli.waitForLine(/alerts: ops \(webhook\) firing prod-down msg_\S+ sent \(attempt 1\)/);
    await cli.waitForLine(
      /alerts: pager \(pagerduty\) firing pager-down msg_\S+ retrying \(attempt 1\): HTTP 429/,
    );
    await cli.waitForLine(/alerts: pager \(pagerduty\) firing pager-down msg_\S+ sent \(attempt 2\)/);
    const hooks = receiver.received.filter((r) => r.path.includes('hook-secret-path'));
    assert.equal(hooks.length, 1);
    const body = new Webhook(SECRET).verify(hooks[0]!.body, {
      'webhook-id': String(hooks[0]!.headers['webhook-id']),
      'webhook-timestamp': String(hooks[0]!.headers['webhook-timestamp']),
      'webhook-signature': String(hooks[0]!.headers['webhook-signature']),
    }) as { type: string; rule: string; providers: { name: string; labels: object }[] };
    assert.deepEqual(
      [body.type, body.rule, body.providers[0]!.name, body.providers[0]!.labels],
      ['firing', 'prod-down', 'api', { env: 'prod' }],
    );

    const alerts = await (await fetch(`${url}/api/alerts`)).text();
    const parsed = JSON.parse(alerts) as { firing: { rule: string }[]; deliveries: { result: string }[] };
    assert.deepEqual(parsed.firing.map((f) => f.rule).sort(), ['pager-down', 'prod-down']);
    assert.ok(parsed.deliveries.some((d) => d.result === 'retrying'));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /provider_health_notifications_total\{notifier="ops",result="sent"\} 1/);
    assert.match(metrics, /provider_health_notifications_total\{notifier="pager",result="retrying"\} 1/);
    assert.match(metrics, /provider_health_alerts_firing\{rule="prod-down"\} 1/);

    failing = false;
    await cli.waitForLine(/alerts: ops \(webhook\) resolved prod-down msg_\S+ sent/);
    await waitUntil(
      () => /pager \(pagerduty\) resolved pager-down \S+ sent/.test(cli!.stdout()),
      'pager resolved',
    );
    const secrets = [SECRET, SECRET.slice(6), ROUTING_KEY, 'hook-secret-path-123', 'pd-secret-path-456'];
    const everything = cli.stdout() + cli.stderr() + alerts + metrics;
    assert.deepEqual(leakedSecrets(everything, secrets), []);
    const outcomeLines = cli
      .stdout()
      .split('\n')
      .filter((line) => / alerts: (ops|pager) /.test(line));
    assert.equal(outcomeLines.length, 5, outcomeLines.join('\n'));
  });

  it('keeps the alert state in state.file: a restart neither pages again nor forgets the incident', async () => {
    await cli?.kill(); // the previous test's server
    const file = join(dir, 'restart.yaml');
    failing = true;
    await writeFile(
      file,
      `pollInterval: 300ms
checkTimeout: 250ms
state: { file: "${join(dir, 'state.json')}" }
providers:
  - { name: api, type: http, url: "http://127.0.0.1:${port}/" }
notifiers:
  - { name: ops, type: webhook, url: "${receiver.url}/restart-hook", secret: "${SECRET}" }
alerts:
  - { name: api-down, groupWait: 200ms, notify: [ops] }
`,
    );
    const hooks = (): { type: string; id: string }[] =>
      receiver.received
        .filter((r) => r.path === '/restart-hook')
        .map((r) => ({
          type: (JSON.parse(r.body) as { type: string }).type,
          id: String(r.headers['webhook-id']),
        }));
    const first = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir }) });
    try {
      await first.waitForLine(/alerts: ops \(webhook\) firing api-down msg_\S+ sent/);
      first.child.kill('SIGTERM');
      assert.equal((await first.exited).code, 0);
    } finally {
      await first.kill();
    }
    const restartedAt = Date.now();
    cli = startCli(['serve', '--config', file, '--port', '0'], { env: cliEnv({ HOME: dir }) });
    const url = (await cli.waitForLine(/listening on (\S+)/))[1]!;
    // Well past groupWait with the provider still failing: a forgetful process would have paged again.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = (await (await fetch(`${url}/api/providers/api`)).json()) as { checked_at: string };
      if (Date.parse(status.checked_at) > restartedAt + 1_500) break;
      assert.ok(Date.now() < deadline, 'no check 1.5 s after the restart within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    failing = false;
    await cli.waitForLine(/alerts: ops \(webhook\) resolved api-down msg_\S+ sent/);
    const sent = hooks();
    assert.deepEqual(
      sent.map((hook) => hook.type),
      ['firing', 'resolved'],
      'one firing before the restart, one resolved after it',
    );
    assert.notEqual(sent[0]!.id, sent[1]!.id);
  });
});
