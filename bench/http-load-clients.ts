// Load clients for bench/http.bench.ts, each run in its own process so their
// CPU is not the server's: keep-alive GET loops, or a crowd of event streams.
//   --client <url> <seconds> <concurrency> <encoding>
//   --streams <url> <count>   (runs until the parent sends 'stop')
//   --burn <duty> cpu|memory  (runs until killed)
import { fork } from 'node:child_process';
import http from 'node:http';
import { createGunzip } from 'node:zlib';

/** What a GET client measured. */
export interface ClientResult {
  readonly requests: number;
  readonly bytes: number;
  readonly failures: number;
  /** Request latency percentiles (ms), from sending to the last byte. */
  readonly p50: number;
  readonly p99: number;
  /** CPU time the client process used (ms), user and system. */
  readonly cpu: number;
}

/** What an event-stream crowd measured. */
export interface StreamsResult {
  /** Events counted on the `decoded` streams (every stream of a group gets the same ones). */
  readonly events: number;
  readonly decoded: number;
  /** Bytes on the wire, over every stream. */
  readonly bytes: number;
  readonly open: number;
}

/**
 * Streams whose events are decoded and counted; the rest are read and their
 * bytes counted. The 100 clients stand for browsers on other machines: here
 * they share the server's 2 cores, and gunzipping or scanning 100 copies of
 * 4 MB a sweep in this process would charge the server for the clients' work.
 */
const DECODED_STREAMS = 5;

/** `concurrency` keep-alive loops for `seconds`, reporting to the parent. */
async function client(url: string, seconds: number, concurrency: number, encoding: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = performance.now() + seconds * 1000;
  const cpuAtStart = process.cpuUsage();
  let requests = 0;
  let bytes = 0;
  let failures = 0;
  const latencies: number[] = [];
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const sent = performance.now();
      const req = http.get(url, { agent, headers: { 'Accept-Encoding': encoding } }, (res) => {
        if (res.statusCode !== 200) failures++;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.once('end', () => {
          requests++;
          latencies.push(performance.now() - sent);
          resolve();
        });
      });
      req.once('error', () => {
        failures++;
        resolve();
      });
    });
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) await once();
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const used = process.cpuUsage(cpuAtStart);
  const cpu = (used.user + used.system) / 1000;
  process.send?.({ requests, bytes, failures, p50: at(0.5), p99: at(0.99), cpu } satisfies ClientResult);
}

/**
 * Opens `count` event streams at `url`, counts bytes (on the wire) on all and
 * events on the first {@link DECODED_STREAMS}, reports and exits on 'stop'.
 * With `gzip`, asks for it and decodes those streams to count their events.
 */
function streams(url: string, count: number, gzip: boolean): void {
  let events = 0;
  let bytes = 0;
  let open = 0;
  const requests: http.ClientRequest[] = [];
  for (let i = 0; i < count; i++) {
    const headers = { Accept: 'text/event-stream', ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) };
    const req = http.get(url, { agent: false, headers }, (res) => {
      open++;
      if (open === count) process.send?.('open');
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      if (i >= DECODED_STREAMS) return;
      const text = gzip ? res.pipe(createGunzip()) : res;
      text.setEncoding('utf8');
      text.on('error', () => {});
      text.on('data', (chunk: string) => {
        for (let at = chunk.indexOf('\nevent: '); at !== -1; at = chunk.indexOf('\nevent: ', at + 1))
          events++;
      });
    });
    req.on('error', () => {});
    requests.push(req);
  }
  process.on('message', (message) => {
    if (message === 'mark') {
      // Counting starts here: the snapshots (megabytes each) are not a sweep's events.
      events = 0;
      bytes = 0;
      process.send?.('marked');
      return;
    }
    if (message !== 'stop') return;
    const decoded = Math.min(count, DECODED_STREAMS);
    process.send?.({ events, decoded, bytes, open } satisfies StreamsResult, () => {
      for (const req of requests) req.destroy();
      process.exit(0);
    });
  });
}

/** Runs a GET client in a child process and resolves with what it measured. */
export function loadFromAnotherProcess(
  url: string,
  seconds: number,
  encoding: string,
): Promise<ClientResult> {
  const child = fork(new URL(import.meta.url), ['--client', url, String(seconds), '10', encoding], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as ClientResult));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`load client exited with ${code}`)),
    );
  });
}

/** Opens `count` event streams from a child process; `stop()` resolves with what they received. */
export async function streamsFromAnotherProcess(
  url: string,
  count: number,
  gzip = false,
): Promise<{ mark: () => Promise<void>; stop: () => Promise<StreamsResult> }> {
  const child = fork(
    new URL(import.meta.url),
    ['--streams', url, String(count), gzip ? 'gzip' : 'identity'],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
  });
  return {
    mark: () =>
      new Promise((resolve) => {
        child.once('message', () => resolve());
        child.send('mark');
      }),
    stop: () =>
      new Promise((resolve, reject) => {
        child.once('message', (message) => resolve(message as StreamsResult));
        child.once('error', reject);
        child.send('stop');
      }),
  };
}

/**
 * Burns `duty` of one core in 1 s periods until killed, standing for what a
 * sweep adds; with `memory`, it spends that time reading and writing a
 * 256 MB array and making garbage, as a sweep over a large heap does.
 */
function burn(duty: number, memory: boolean): void {
  const big = new Float64Array(memory ? 32 * 2 ** 20 : 1);
  let sink = 0;
  const period = (): void => {
    const end = performance.now() + 1000 * duty;
    let at = 0;
    while (performance.now() < end) {
      if (!memory) continue;
      for (let i = 0; i < 4096; i++) {
        // A stride past every cache line, so each step goes to memory.
        at = (at + 4099 * 8) % big.length;
        sink += big[at]!;
        big[at] = sink;
      }
      sink += Array.from({ length: 64 }, (_, i) => ({ i, text: `x${i}` })).length;
    }
    setTimeout(period, 1000 * (1 - duty));
  };
  process.send?.('burning');
  period();
}

/** Starts {@link burn} in a child process; resolves, once it burns, with what stops it. */
export async function burnInAnotherProcess(duty: number, memory: boolean): Promise<() => void> {
  const child = fork(new URL(import.meta.url), ['--burn', String(duty), memory ? 'memory' : 'cpu'], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
  });
  return () => child.kill();
}

if (process.argv[2] === '--client') {
  const [, , , url = '', seconds = '8', concurrency = '10', encoding = 'gzip'] = process.argv;
  await client(url, Number(seconds), Number(concurrency), encoding);
} else if (process.argv[2] === '--streams') {
  const [, , , url = '', count = '100', encoding = 'identity'] = process.argv;
  streams(url, Number(count), encoding === 'gzip');
} else if (process.argv[2] === '--burn') {
  burn(Number(process.argv[3]), process.argv[4] === 'memory');
}
