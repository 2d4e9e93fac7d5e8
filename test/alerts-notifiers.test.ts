import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  createNotifiers,
  emailNotifier,
  isNotifierTestError,
  PAGERDUTY_EVENTS_URL,
  pagerDutyNotifier,
  sendTest,
  slackNotifier,
  webhookNotifier,
  type Notification,
} from '../src/alerts/index.js';
import { leakedSecrets, refusedPort } from './support/listen.js';
import {
  assertPagerDutyEvent,
  assertSlackPayload,
  assertWebhookBody,
  startReceiver,
  type Receiver,
} from './support/receivers.js';
import { startSmtp, type SmtpFixture } from './support/smtp.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const ROUTING_KEY = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12'; // 32 characters, as PagerDuty issues them

function notification(over: Partial<Notification> = {}, count = 2): Notification {
  const providers = Array.from({ length: count }, (_, i) => ({
    name: `cluster-${i}`,
    state: 'unhealthy' as const,
    message: `connection refused <${i}>`,
    labels: { env: 'prod' },
    since: '2026-11-30T10:00:00.000Z',
  }));
  return {
    id: 'msg_abc',
    incident: 'inc_123',
    type: 'firing',
    rule: 'prod-down',
    reminder: 0,
    test: false,
    startedAt: '2026-11-30T10:00:00.000Z',
    providers,
    ...over,
  };
}

const signal = () => AbortSignal.timeout(5000);

describe('webhook notifier', { timeout: 20_000 }, () => {
  let receiver: Receiver;
  before(async () => (receiver = await startReceiver({ status: 204 })));
  after(() => receiver.close());

  it('POSTs the promised JSON, signed so the reference library verifies it; the id is stable across attempts', async () => {
    const notifier = webhookNotifier({ name: 'ops', url: `${receiver.url}/hooks/abc`, secret: SECRET });
    const n = notification();
    await notifier.send(n, signal());
    await notifier.send(n, signal()); // a retry
    const [first, second] = receiver.received.slice(-2);
    assert.equal(first!.path, '/hooks/abc');
    assert.equal(first!.headers['content-type'], 'application/json');
    const headers = {
      'webhook-id': String(first!.headers['webhook-id']),
      'webhook-timestamp': String(first!.headers['webhook-timestamp']),
      'webhook-signature': String(first!.headers['webhook-signature']),
    };
    const verified = new Webhook(SECRET).verify(first!.body, headers);
    assertWebhookBody(verified);
    assert.deepEqual(verified, {
      type: 'firing',
      rule: 'prod-down',
      id: 'msg_abc',
      incident: 'inc_123',
      reminder: 0,
      startedAt: '2026-11-30T10:00:00.000Z',
      providers: n.providers,
      omitted: 0,
    });
    assert.equal(headers['webhook-id'], 'msg_abc');
    assert.equal(second!.headers['webhook-id'], 'msg_abc', 'the same id on a retry');
    const other = `whsec_${Buffer.from('another-secret-of-32-bytes-long!').toString('base64')}`;
    assert.throws(() => new Webhook(other).verify(first!.body, headers), 'a wrong key does not verify');
  });

  it('caps the providers listed and counts the rest', async () => {
    const notifier = webhookNotifier({ name: 'ops', url: receiver.url, secret: SECRET, maxProviders: 3 });
    await notifier.send(notification({}, 10), signal());
    const body = JSON.parse(receiver.received.at(-1)!.body) as { providers: unknown[]; omitted: number };
    assert.equal(body.providers.length, 3);
    assert.equal(body.omitted, 7);
  });
});

describe('slack notifier', { timeout: 20_000 }, () => {
  it('posts text plus readable blocks within Slack limits', async () => {
    const receiver = await startReceiver({ status: 200, body: 'ok' });
    try {
      const notifier = slackNotifier({ name: 'chat', url: `${receiver.url}/services/T000/B000/XXXX` });
      await notifier.send(notification({}, 25), signal());
      await notifier.send(notification({ type: 'resolved' }, 1), signal());
      const [firing, resolved] = receiver.received.map((r) => JSON.parse(r.body) as unknown);
      assertSlackPayload(firing);
      assertSlackPayload(resolved);
      assert.match(firing.text, /^\[FIRING\] prod-down: 25 providers unhealthy/);
      const section = JSON.stringify(firing.blocks[1]);
      assert.match(
        section,
        /cluster-0\* unhealthy since 2026-11-30T10:00:00.000Z — connection refused &lt;0&gt;/,
      );
      assert.match(section, /and 5 more/);
      assert.match(resolved.text, /^\[RESOLVED\] prod-down: 1 provider back/);
    } finally {
      await receiver.close();
    }
  });
});

describe('pagerduty notifier', { timeout: 20_000 }, () => {
  it('defaults to the Events v2 endpoint', () => {
    assert.equal(PAGERDUTY_EVENTS_URL, 'https://events.pagerduty.com/v2/enqueue');
  });

  it('triggers and resolves with the incident as dedup_key, within the documented fields and limits', async () => {
    const receiver = await startReceiver({
      status: 202,
      body: '{"status":"success","message":"Event processed"}',
    });
    try {
      const notifier = pagerDutyNotifier({
        name: 'pager',
        routingKey: ROUTING_KEY,
        url: `${receiver.url}/v2/enqueue`,
      });
      const long = notification({}, 2000);
      await notifier.send(long, signal());
      await notifier.send(notification({ type: 'resolved', id: 'msg_res' }), signal());
      const [trigger, resolve] = receiver.received;
      assert.equal(trigger!.path, '/v2/enqueue');
      const t = JSON.parse(trigger!.body) as {
        event_action: string;
        dedup_key: string;
        payload: { severity: string; summary: string; custom_details: { omitted: number } };
      };
      assertPagerDutyEvent(t, ROUTING_KEY);
      assert.equal(t.event_action, 'trigger');
      assert.equal(t.dedup_key, 'inc_123');
      assert.equal(t.payload.severity, 'critical');
      assert.ok(t.payload.summary.length <= 1024);
      assert.equal(t.payload.custom_details.omitted, 1900);
      const r = JSON.parse(resolve!.body) as unknown;
      assertPagerDutyEvent(r, ROUTING_KEY);
      assert.deepEqual(r, { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'inc_123' });
    } finally {
      await receiver.close();
    }
  });
});

describe('email notifier', { timeout: 30_000 }, () => {
  let smtp: SmtpFixture;
  before(async () => (smtp = await startSmtp()));
  after(() => smtp.close());

  it('sends plain text plus HTML over SMTP with the login checked', async () => {
    const notifier = emailNotifier({
      name: 'mail',
      smtp: smtp.url,
      from: 'alerts@example.com',
      to: ['ops@example.com'],
    });
    await notifier.send(notification(), signal());
    const mail = smtp.mails.at(-1)!;
    assert.equal(mail.from, 'alerts@example.com');
    assert.deepEqual(mail.to, ['ops@example.com']);
    assert.match(mail.headers.get('subject') ?? '', /\[FIRING\] prod-down: 2 providers unhealthy/);
    assert.match(mail.headers.get('content-type') ?? '', /^multipart\/alternative/);
    assert.equal(mail.headers.get('message-id'), '<msg_abc@provider-health>');
    assert.match(
      mail.text,
      /- cluster-1: unhealthy since 2026-11-30T10:00:00.000Z \(connection refused <1>\)/,
    );
    assert.match(mail.html, /<td>cluster-1<\/td><td>unhealthy<\/td>/);
    assert.match(mail.html, /connection refused &#60;1&#62;/);
  });

  it('without the optional peer nodemailer, says how to install it', { timeout: 60_000 }, async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = [
      "import { emailNotifier, sendTest } from './src/alerts/index.ts';",
      "const n = emailNotifier({ name: 'mail', smtp: 'smtp://u:p@127.0.0.1:1', from: 'a@x', to: ['b@x'] });",
      'await sendTest(n).then(() => console.log("sent"), (e) => console.log(e.message));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/fixtures/without-packages.mjs',
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: root, timeout: 60_000, env: { ...process.env, WITHOUT_PACKAGES: 'nodemailer' } },
    );
    assert.equal(
      stdout.trim(),
      'notifier "mail" failed: the email notifier needs the optional peer dependency nodemailer: npm install nodemailer',
    );
  });

  it('sendTest names a refused login and an unreachable server, never the password', async () => {
    const bad = smtp.url.replace(encodeURIComponent('pa$$-w0rd-secret'), 'wrong-password-123');
    const refused = emailNotifier({ name: 'mail', smtp: bad, from: 'a@example.com', to: ['b@example.com'] });
    const error = await sendTest(refused, signal()).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(isNotifierTestError(error));
    assert.match(error.message, /notifier "mail" failed: SMTP 535 \(EAUTH\)/);
    assert.deepEqual(
      leakedSecrets(error.message + JSON.stringify(error), ['wrong-password-123', 'pa$$-w0rd-secret']),
      [],
    );
    const port = await refusedPort();
    const gone = emailNotifier({
      name: 'mail',
      smtp: `smtp://u:hunter2-secret@127.0.0.1:${port}`,
      from: 'a@example.com',
      to: ['b@example.com'],
    });
    const unreachable = await sendTest(gone, signal()).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(isNotifierTestError(unreachable));
    assert.match(unreachable.message, /ECONNREFUSED/);
    assert.deepEqual(leakedSecrets(unreachable.message, ['hunter2-secret']), []);
  });
});

describe('sendTest and config', { timeout: 20_000 }, () => {
  it('names the HTTP status of a 4xx and keeps the URL and key out of the reason', async () => {
    const receiver = await startReceiver({ status: 404, body: 'no_service' });
    try {
      const url = `${receiver.url}/services/T1/B2/sEcReTtOkEn99`;
      const error = await sendTest(slackNotifier({ name: 'chat', url }), signal()).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
      assert.ok(isNotifierTestError(error));
      assert.equal(error.message, 'notifier "chat" failed: HTTP 404: no_service');
      assert.equal(error.status, 404);
      const pd = pagerDutyNotifier({
        name: 'pager',
        routingKey: ROUTING_KEY,
        url: `${receiver.url}/v2/enqueue`,
      });
      receiver.fallback = {
        status: 400,
        body: `{"status":"invalid event","errors":["routing_key ${ROUTING_KEY} unknown"]}`,
      };
      const pdError = await sendTest(pd, signal()).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
      assert.match(String(pdError), /HTTP 400/);
      assert.deepEqual(
        leakedSecrets(String(pdError) + JSON.stringify(pdError), [ROUTING_KEY, 'sEcReTtOkEn99']),
        [],
      );
    } finally {
      await receiver.close();
    }
  });

  it('rejects bad entries naming the field, without quoting secrets', () => {
    const cases: [unknown, RegExp][] = [
      [
        [{ name: 'ops', type: 'webhook', url: 'ftp://x/secret-path', secret: SECRET }],
        /notifiers\[0\] \(webhook "ops"\): url must be an http:\/\/ or https:\/\/ URL$/,
      ],
      [
        [{ name: 'ops', type: 'webhook', url: 'http://x' }],
        /notifiers\[0\] \(webhook "ops"\): secret must be whsec_/,
      ],
      [
        [{ name: 'ops', type: 'webhook', url: 'http://x', secret: 'not-a-whsec-value' }],
        /secret must be whsec_ followed by base64 of at least 16 bytes$/,
      ],
      [
        [{ name: 'p', type: 'pagerduty' }],
        /notifiers\[0\] \(pagerduty "p"\): routingKey must be a non-empty string/,
      ],
      [
        [{ name: 'm', type: 'email', smtp: 'http://u:pw@h', from: 'a', to: ['b'] }],
        /smtp must be an smtp:\/\/ or smtps:\/\/ URL/,
      ],
      [[{ name: 'x', type: 'teams', url: 'http://x' }], /notifiers\[0\]\.type/],
      [
        [
          { name: 'c', type: 'slack', url: 'http://a' },
          { name: 'c', type: 'slack', url: 'http://b' },
        ],
        /notifiers\[1\]\.name/,
      ],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(
        () => createNotifiers(input),
        (error: Error) => {
          assert.match(error.message, pattern);
          assert.deepEqual(
            leakedSecrets(error.message, ['secret-path', SECRET, 'not-a-whsec-value', ':pw@']),
            [],
          );
          return true;
        },
      );
    }
  });
});
