// `provider-health notify test [--config FILE]`: a test notification through
// every notifier; exit 1 naming each that failed and why (an unreachable SMTP
// server included); never a secret in the output. In-process (runMain), plus
// the built CLI once.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { cliEnv, runCli, runMain } from './support/cli.js';
import { leakedSecrets, refusedPort } from './support/listen.js';
import {
  assertPagerDutyEvent,
  assertSlackPayload,
  startReceiver,
  type Receiver,
} from './support/receivers.js';
import { startSmtp, type SmtpFixture } from './support/smtp.js';

const SECRET = `whsec_${Buffer.from('notify-test-signing-key-32-bytes').toString('base64')}`;
const ROUTING_KEY = 'routing-key-notify-test-0123456789';

describe('notify test', { timeout: 90_000 }, () => {
  let dir: string;
  let receiver: Receiver;
  let smtp: SmtpFixture;
  let deadPort: number;
  const secrets = (): string[] => [
    SECRET,
    SECRET.slice(6),
    ROUTING_KEY,
    'hook-token-abcdef',
    'slack-token-uvwxyz',
    'pa$$-w0rd-secret',
    encodeURIComponent('pa$$-w0rd-secret'),
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ph-notify-'));
    receiver = await startReceiver({ status: 200 });
    smtp = await startSmtp();
    deadPort = await refusedPort();
  });
  after(async () => {
    await receiver.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  const config = async (notifiers: string): Promise<string> => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, `notifiers:\n${notifiers}`);
    return file;
  };

  it('sends to every notifier; all accept: exit 0, each named ok', async () => {
    const before = receiver.received.length;
    const file =
      await config(`  - { name: ops, type: webhook, url: "${receiver.url}/hook-token-abcdef", secret: "${SECRET}" }
  - { name: chat, type: slack, url: "${receiver.url}/slack-token-uvwxyz" }
  - { name: pager, type: pagerduty, routingKey: "${ROUTING_KEY}", url: "${receiver.url}/v2/enqueue" }
  - { name: mail, type: email, smtp: "${smtp.url}", from: "ph@example.com", to: ["ops@example.com"] }
`);
    const result = await runMain(['notify', 'test', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ok +ops \(webhook\)$/m);
    assert.match(result.stdout, /^ok +chat \(slack\)$/m);
    assert.match(result.stdout, /^ok +pager \(pagerduty\)$/m);
    assert.match(result.stdout, /^ok +mail \(email\)$/m);
    const got = receiver.received.slice(before);
    const hook = got.find((r) => r.path.endsWith('hook-token-abcdef'))!;
    const body = new Webhook(SECRET).verify(hook.body, {
      'webhook-id': String(hook.headers['webhook-id']),
      'webhook-timestamp': String(hook.headers['webhook-timestamp']),
      'webhook-signature': String(hook.headers['webhook-signature']),
    }) as { type: string };
    assert.equal(body.type, 'test');
    assertSlackPayload(JSON.parse(got.find((r) => r.path.endsWith('slack-token-uvwxyz'))!.body));
    const pd = got.filter((r) => r.path === '/v2/enqueue').map((r) => JSON.parse(r.body) as unknown);
    for (const event of pd) assertPagerDutyEvent(event, ROUTING_KEY);
    assert.deepEqual(
      pd.map((e) => (e as { event_action: string }).event_action),
      ['trigger', 'resolve'],
      'a test trigger is resolved at once',
    );
    assert.equal(smtp.mails.at(-1)?.to[0], 'ops@example.com');
  });

  it('exits 1 naming each failure and why: unreachable SMTP, refused login, HTTP 404, connection refused', async () => {
    receiver.script.push({ status: 404, body: 'no_service' });
    const wrongLogin = smtp.url.replace(encodeURIComponent('pa$$-w0rd-secret'), 'wrong-password-x');
    const file = await config(`  - { name: chat, type: slack, url: "${receiver.url}/slack-token-uvwxyz" }
  - { name: ops, type: webhook, url: "http://127.0.0.1:${deadPort}/hook-token-abcdef", secret: "${SECRET}" }
  - { name: mail, type: email, smtp: "smtp://u:pa%24%24-w0rd-secret@127.0.0.1:${deadPort}", from: "a@b.c", to: ["d@e.f"] }
  - { name: login, type: email, smtp: "${wrongLogin}", from: "a@b.c", to: ["d@e.f"] }
  - { name: pager, type: pagerduty, routingKey: "${ROUTING_KEY}", url: "${receiver.url}/v2/enqueue" }
`);
    const result = await runMain(['notify', 'test', '--config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^notifier "chat" \(slack\) failed: HTTP 404: no_service$/m);
    assert.match(result.stderr, /^notifier "ops" \(webhook\) failed: network error \(ECONNREFUSED\)$/m);
    assert.match(
      result.stderr,
      /^notifier "mail" \(email\) failed: SMTP ESOCKET: connect ECONNREFUSED 127\.0\.0\.1:\d+$/m,
    );
    assert.match(result.stderr, /^notifier "login" \(email\) failed: SMTP 535/m);
    assert.doesNotMatch(result.stderr, /pager/, 'the one that worked is not named as failed');
    assert.match(result.stdout, /^ok +pager \(pagerduty\)$/m);
    assert.deepEqual(leakedSecrets(result.stdout + result.stderr, [...secrets(), 'wrong-password-x']), []);
  });

  it('a bad config or command line exits 2 naming the problem', async () => {
    const bad = await config(`  - { name: ops, type: webhook, url: "ftp://x/hook-token-abcdef" }\n`);
    const result = await runMain(['notify', 'test', '--config', bad]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /:2: notifiers\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(result.stderr, /:2: notifiers\[0\]\.secret: missing/);
    assert.deepEqual(leakedSecrets(result.stderr, secrets()), []);
    const none = join(dir, 'none.yaml');
    await writeFile(none, 'providers: []\n');
    assert.match((await runMain(['notify', 'test', '--config', none])).stderr, /no notifiers: to test/);
    assert.equal((await runMain(['notify', 'test'])).code, 2);
    assert.match((await runMain(['notify', 'send'])).stderr, /expected test, got 'send'/);
    assert.match((await runMain(['notify', '--help'])).stdout, /Usage: provider-health notify test/);
  });

  it('the built CLI: the same answer from a real process', async () => {
    const file =
      await config(`  - { name: mail, type: email, smtp: "smtp://u:pa%24%24-w0rd-secret@127.0.0.1:${deadPort}", from: "a@b.c", to: ["d@e.f"] }
  - { name: ops, type: webhook, url: "${receiver.url}/hook-token-abcdef", secret: "${SECRET}" }
`);
    const result = await runCli(['notify', 'test', '--config', file], { env: cliEnv({ HOME: dir }) });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /notifier "mail" \(email\) failed: SMTP ESOCKET: connect ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
    assert.match(result.stdout, /^ok +ops \(webhook\)$/m);
    assert.deepEqual(leakedSecrets(result.stdout + result.stderr, secrets()), []);
  });
});
