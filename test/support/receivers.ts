/**
 * Local stand-ins for the vendors' receivers: a real HTTP server on a free
 * loopback port that records each request and answers as the test scripts
 * it (a status, a Retry-After, or never). Checkers for each vendor's
 * documented payload live next to it, so every notifier test checks the
 * exact shape the vendor accepts.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { close, listen } from './listen.js';

/** One request the receiver got. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How to answer one request: a status (and headers, body), or `hang` (never answer). */
export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string | ((request: Received) => string) }
  | 'hang';

/** A recording receiver. `script` answers requests in order; after it runs out, `fallback`. */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  readonly script: Answer[];
  fallback: Answer;
  /** Resolves when `count` requests have arrived (bounded by `ms`). */
  waitFor(count: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver; `fallback` answers every unscripted request (default 200). */
export async function startReceiver(fallback: Answer = { status: 200, body: 'ok' }): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const hung: ServerResponse[] = [];
  const receiver = { received, script: [] as Answer[], fallback } as Receiver & { fallback: Answer };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      for (const wake of waiters.splice(0)) wake();
      const answer = receiver.script.shift() ?? receiver.fallback;
      if (answer === 'hang') return void hung.push(res);
      const body = typeof answer.body === 'function' ? answer.body(request) : (answer.body ?? '');
      res.writeHead(answer.status, answer.headers ?? {}).end(body);
    });
  });
  const port = await listen(server);
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    async waitFor(count: number, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`receiver got ${received.length} requests, expected ${count}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => (clearTimeout(timer), resolve()));
        });
      }
    },
    async close(): Promise<void> {
      for (const res of hung) res.destroy();
      await close(server);
    },
  });
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Slack incoming webhook: `text` plus Block Kit blocks within Slack's documented limits. */
export function assertSlackPayload(body: unknown): asserts body is { text: string; blocks: unknown[] } {
  assert.ok(typeof body === 'object' && body !== null);
  const { text, blocks } = body as { text?: unknown; blocks?: unknown };
  assert.equal(typeof text, 'string');
  assert.ok((text as string).length > 0, 'text fallback is not empty');
  assert.ok(Array.isArray(blocks) && blocks.length > 0 && blocks.length <= 50, '1..50 blocks');
  for (const block of blocks as Record<string, unknown>[]) {
    const type = block['type'];
    if (type === 'header') {
      const t = block['text'] as { type: string; text: string };
      assert.equal(t.type, 'plain_text', 'header text is plain_text');
      assert.ok(t.text.length > 0 && t.text.length <= 150, 'header text 1..150');
    } else if (type === 'section') {
      const t = block['text'] as { type: string; text: string };
      assert.ok(t.type === 'mrkdwn' || t.type === 'plain_text');
      assert.ok(t.text.length > 0 && t.text.length <= 3000, 'section text 1..3000');
    } else if (type === 'context') {
      const elements = block['elements'] as { type: string; text: string }[];
      assert.ok(elements.length > 0 && elements.length <= 10, 'context 1..10 elements');
      for (const e of elements) assert.ok(e.type === 'mrkdwn' || e.type === 'plain_text');
    } else assert.fail(`unexpected block type ${String(type)}`);
    const extra = Object.keys(block).filter((k) => !['type', 'text', 'elements', 'block_id'].includes(k));
    assert.deepEqual(extra, [], 'no unknown block fields');
  }
}

/** PagerDuty Events API v2 (`POST /v2/enqueue`): the documented fields, exactly. */
export function assertPagerDutyEvent(body: unknown, routingKey: string): void {
  assert.ok(typeof body === 'object' && body !== null);
  const event = body as Record<string, unknown>;
  const allowed = [
    'routing_key',
    'event_action',
    'dedup_key',
    'payload',
    'client',
    'client_url',
    'links',
    'images',
  ];
  assert.deepEqual(
    Object.keys(event).filter((k) => !allowed.includes(k)),
    [],
    'only documented top-level fields',
  );
  assert.equal(event['routing_key'], routingKey);
  assert.ok(['trigger', 'acknowledge', 'resolve'].includes(event['event_action'] as string));
  const dedup = event['dedup_key'];
  assert.ok(typeof dedup === 'string' && dedup.length > 0 && dedup.length <= 255, 'dedup_key 1..255');
  if (event['event_action'] !== 'trigger') return;
  const payload = event['payload'] as Record<string, unknown>;
  const fields = [
    'summary',
    'source',
    'severity',
    'timestamp',
    'component',
    'group',
    'class',
    'custom_details',
  ];
  assert.deepEqual(
    Object.keys(payload).filter((k) => !fields.includes(k)),
    [],
    'only documented payload fields',
  );
  const summary = payload['summary'];
  assert.ok(typeof summary === 'string' && summary.length > 0 && summary.length <= 1024, 'summary 1..1024');
  assert.ok(typeof payload['source'] === 'string' && payload['source'].length > 0, 'source');
  assert.ok(['critical', 'error', 'warning', 'info'].includes(payload['severity'] as string), 'severity');
  if (payload['timestamp'] !== undefined) assert.match(payload['timestamp'] as string, RFC3339);
  assert.ok(Buffer.byteLength(JSON.stringify(body)) <= 512 * 1024, 'event within 512 KB');
}

/** The webhook body promised by the issue: type, rule, providers with the five fields. */
export function assertWebhookBody(body: unknown): void {
  const b = body as Record<string, unknown>;
  assert.ok(['firing', 'resolved', 'test'].includes(b['type'] as string));
  assert.equal(typeof b['rule'], 'string');
  assert.ok(Array.isArray(b['providers']));
  for (const p of b['providers'] as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(p).sort(), ['labels', 'message', 'name', 'since', 'state']);
    assert.match(p['since'] as string, RFC3339);
  }
}
