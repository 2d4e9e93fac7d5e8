// The `notifiers:` and `alerts:` keys of the config file: the issue's shape
// works as written; bad entries are errors naming the field and the line,
// and never quote a secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/cli/config.js';
import { alertingConfig } from '../src/cli/alerts-config.js';

const SECRET = `whsec_${Buffer.from('config-test-signing-key-32-bytes').toString('base64')}`;

const ISSUE_SHAPE = `
notifiers:
  - { name: ops, type: webhook, url: "http://hooks.example/ops-token-7a1b", secret: "${SECRET}" }
  - { name: chat, type: slack, url: "https://hooks.slack.example/services/T000/B000/slack-token-xyz" }
  - { name: pager, type: pagerduty, routingKey: "routing-key-0123456789abcdef", url: "http://127.0.0.1:9/v2/enqueue" }
  - { name: mail, type: email, smtp: "smtp://user:smtp-pass-word@mail.example:587", from: "ph@example.com", to: ["ops@example.com"] }
alerts:
  - name: prod-down
    selector: env=prod
    states: [unhealthy, stale]
    for: 1m
    groupWait: 10s
    repeatInterval: 4h
    notify: [ops, pager]
`;

/** The config error's text for `yaml`, or fails. */
function errorOf(yaml: string): string {
  try {
    parseConfig(yaml, 'ph.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

const SECRETS = [
  'ops-token-7a1b',
  'slack-token-xyz',
  'routing-key-0123456789abcdef',
  'smtp-pass-word',
  SECRET,
  SECRET.slice(6),
];
const leaked = (text: string) => SECRETS.filter((secret) => text.includes(secret));

describe('config: notifiers and alerts', () => {
  it('reads the issue shape as written, durations in ms, pagerduty url optional', () => {
    const { config } = parseConfig(ISSUE_SHAPE, 'ph.yaml');
    const alerting = alertingConfig(config);
    assert.ok(alerting);
    assert.deepEqual(
      alerting.notifiers.map((n) => [n.name, n.type]),
      [
        ['ops', 'webhook'],
        ['chat', 'slack'],
        ['pager', 'pagerduty'],
        ['mail', 'email'],
      ],
    );
    assert.deepEqual(alerting.alerts[0], {
      name: 'prod-down',
      selector: 'env=prod',
      states: ['unhealthy', 'stale'],
      for: 60_000,
      groupWait: 10_000,
      repeatInterval: 4 * 3_600_000,
      notify: ['ops', 'pager'],
    });
    const minimal = parseConfig(
      'notifiers:\n  - { name: p, type: pagerduty, routingKey: abc }\nalerts:\n  - { name: r, notify: [p] }\n',
      'ph.yaml',
    );
    assert.deepEqual(alertingConfig(minimal.config)?.alerts, [{ name: 'r', notify: ['p'] }]);
    assert.equal(
      alertingConfig(parseConfig('notifiers: []\n', 'ph.yaml').config),
      undefined,
      'no rules: no alerting',
    );
  });

  it('names an unknown notifier in notify with its line and the names that exist', () => {
    const text = errorOf(ISSUE_SHAPE.replace('notify: [ops, pager]', 'notify: [ops, pagr]'));
    assert.match(
      text,
      /^ph\.yaml:14: alerts\[0\]\.notify\[1\]: unknown notifier "pagr"; expected one of chat, mail, ops, pager$/m,
    );
    assert.deepEqual(leaked(text), []);
  });

  it('names bad URLs, missing secrets and bad SMTP URLs by field and line, never quoting them', () => {
    const broken = ISSUE_SHAPE.replace(
      'url: "http://hooks.example/ops-token-7a1b", secret: "' + SECRET + '"',
      'url: "ftp://hooks.example/ops-token-7a1b"',
    )
      .replace('smtp://user:smtp-pass-word@mail.example:587', 'smtq://user:smtp-pass-word@mail.example:587')
      .replace('routingKey: "routing-key-0123456789abcdef"', 'routingKey: ""');
    const text = errorOf(broken);
    assert.match(text, /^ph\.yaml:3: notifiers\[0\]\.url: expected an http:\/\/ or https:\/\/ URL$/m);
    assert.match(text, /^ph\.yaml:3: notifiers\[0\]\.secret: missing; expected a signing secret: whsec_/m);
    assert.match(text, /^ph\.yaml:5: notifiers\[2\]\.routingKey: expected the integration routing key/m);
    assert.match(text, /^ph\.yaml:6: notifiers\[3\]\.smtp: expected an smtp:\/\/ or smtps:\/\/ URL/m);
    assert.deepEqual(leaked(text), []);
    const weak = errorOf(ISSUE_SHAPE.replace(SECRET, 'whsec_c2hvcnQ='));
    assert.match(weak, /notifiers\[0\]\.secret: expected a signing secret/);
    assert.doesNotMatch(weak, /c2hvcnQ/);
  });

  it('names unknown types, unknown keys (with a hint), bad states, durations, selectors and duplicates', () => {
    const text = errorOf(`
notifiers:
  - { name: ops, type: webhok, url: "http://x.example" }
  - { name: chat, type: slack, url: "https://x.example", channel: "#ops" }
  - { name: chat, type: slack, url: "https://y.example" }
alerts:
  - name: r
    selector: "env in (prod"
    states: [down]
    for: soon
    repeatInterval: 10ms
    notify: []
  - { name: s, notify: [chat], grupWait: 10s }
`);
    assert.match(
      text,
      /ph\.yaml:3: notifiers\[0\]\.type: expected one of webhook, slack, pagerduty, email, got "webhok"/,
    );
    assert.match(text, /ph\.yaml:4: notifiers\[1\]\.channel: unknown key; expected one of name, type, url/);
    assert.match(text, /ph\.yaml:8: alerts\[0\]\.selector: selector: .* at position \d+/);
    assert.match(
      text,
      /ph\.yaml:9: alerts\[0\]\.states\[0\]: expected one of "degraded", "unhealthy", "stale", got "down"/,
    );
    assert.match(text, /ph\.yaml:10: alerts\[0\]\.for: expected a duration/);
    assert.match(text, /ph\.yaml:11: alerts\[0\]\.repeatInterval: expected a duration of at least 1s/);
    assert.match(text, /ph\.yaml:12: alerts\[0\]\.notify: expected at least one notifier name/);
    assert.match(text, /ph\.yaml:13: alerts\[1\]\.grupWait: unknown key; did you mean "groupWait"\?/);
    const dup = errorOf(`
notifiers:
  - { name: chat, type: slack, url: "https://x.example" }
  - { name: chat, type: slack, url: "https://y.example" }
alerts:
  - { name: r, notify: [chat] }
  - { name: r, notify: [chat] }
`);
    assert.match(
      dup,
      /ph\.yaml:4: notifiers\[1\]\.name: duplicate notifier name "chat" \(also used by notifiers\[0\]\)/,
    );
    assert.match(dup, /ph\.yaml:7: alerts\[1\]\.name: duplicate rule name "r" \(also used by alerts\[0\]\)/);
  });
});
