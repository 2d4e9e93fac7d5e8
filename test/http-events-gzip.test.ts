import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { createHealthHandler, type ProviderJSON } from '../src/http/index.js';
import { launchChromium } from './support/chromium.js';
import { demoCache, serve, switchable, type TestServer } from './support/http.js';
import { failOnUnhandledRejections } from './support/unhandled.js';

failOnUnhandledRejections();

/** Parses `text` as server-sent events (complete ones only). */
function events(text: string): { event: string; data: string }[] {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => {
      const lines = block.split('\n');
      const field = (name: string) =>
        lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { event: field('event'), data: field('data') };
    })
    .filter((e) => e.event !== '');
}

/** Reads a gzip event stream through Node's streaming gunzip until `done(text)`. */
function gunzipUntil(
  url: string,
  done: (text: string) => boolean,
): Promise<{ headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let text = '';
      const gunzip = createGunzip();
      gunzip.setEncoding('utf8');
      gunzip.on('data', (chunk: string) => {
        text += chunk;
        if (done(text)) {
          req.destroy();
          resolve({ headers: res.headers, text });
        }
      });
      gunzip.on('error', reject);
      res.pipe(gunzip);
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
  });
}

describe('GET /api/events with gzip', { timeout: 120_000 }, () => {
  const docker = switchable({ healthy: true, message: 'up' });
  let server: TestServer;
  let handler: ReturnType<typeof createHealthHandler>;
  let cache: Awaited<ReturnType<typeof demoCache>>['cache'];
  let browser: Browser;

  before(async () => {
    ({ cache } = await demoCache({ docker }));
    handler = createHealthHandler(cache, { metrics: false, heartbeatInterval: 200 });
    server = await serve(handler);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    handler?.close();
    await server?.close();
    cache?.dispose();
  });

  it('decodes in Node as a stream: snapshot, changes from two clients joined at different times, heartbeats', async () => {
    const first = gunzipUntil(`${server.url}/api/events`, (text) =>
      events(text).some((e) => e.event === 'change' && e.data.includes('second change')),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    docker.report = { healthy: false, message: 'first change' };
    await cache.checkProvider('docker');
    const second = gunzipUntil(`${server.url}/api/events?batch=1`, (text) =>
      events(text).some((e) => e.event === 'changes' && e.data.includes('second change')),
    );
    await new Promise((resolve) => setTimeout(resolve, 600)); // heartbeats go out meanwhile
    docker.report = { healthy: true, message: 'second change' };
    await cache.checkProvider('docker');
    const a = await first;
    assert.equal(a.headers['content-encoding'], 'gzip');
    assert.equal(a.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.match(a.text, /^retry: 3000\n\nid: \d+\nevent: snapshot\ndata: \[/);
    assert.match(a.text, /: ping\n\n/);
    const kinds = events(a.text).map((e) => e.event);
    assert.equal(kinds[0], 'snapshot');
    assert.ok(events(a.text).some((e) => e.event === 'change' && e.data.includes('first change')));
    const b = await second;
    const snapshot = events(b.text)[0]!;
    assert.equal(snapshot.event, 'snapshot');
    const docker2 = (JSON.parse(snapshot.data) as ProviderJSON[]).find((p) => p.name === 'docker');
    assert.equal(docker2?.message, 'first change');
  });

  it('decodes with curl --compressed; without Accept-Encoding the stream is plain', async () => {
    const curl = spawn('curl', ['-sN', '--compressed', '--max-time', '2', `${server.url}/api/events`]);
    let out = '';
    curl.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => curl.on('close', resolve));
    assert.equal(code, 28, 'ended by --max-time, not by a decoding error'); // 28 = operation timed out
    assert.match(out, /^retry: 3000\n\nid: \d+\nevent: snapshot\ndata: \[\{"name":"docker"/);
    assert.match(out, /: ping\n\n/);
    const plain = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${server.url}/api/events`, resolve),
    );
    assert.equal(plain.headers['content-encoding'], undefined);
    plain.destroy();
  });

  it("decodes in Chromium's EventSource (which asks for gzip)", async () => {
    const page = await browser.newPage();
    try {
      let encoding: string | undefined;
      page.on('response', (response) => {
        if (response.url().endsWith('/api/events')) encoding = response.headers()['content-encoding'];
      });
      await page.goto(`${server.url}/api/providers`);
      await page.evaluate(`(() => {
        window.got = [];
        const source = new EventSource('/api/events');
        source.addEventListener('snapshot', (e) => window.got.push(['snapshot', JSON.parse(e.data).length]));
        source.addEventListener('change', (e) => window.got.push(['change', JSON.parse(e.data).message]));
      })()`);
      await page.waitForFunction('window.got.length >= 1', undefined, { timeout: 10_000 });
      docker.report = { healthy: false, message: 'seen in chromium' };
      await cache.checkProvider('docker');
      await page.waitForFunction('window.got.some((g) => g[1] === "seen in chromium")', undefined, {
        timeout: 10_000,
      });
      const got = await page.evaluate<[string, unknown][]>('window.got');
      assert.equal(got[0]?.[0], 'snapshot');
      assert.equal(encoding, 'gzip');
    } finally {
      await page.close();
    }
  });
});
