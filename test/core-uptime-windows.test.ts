import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UptimeWindows } from '../src/uptime-windows.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Monday at 00:00 UTC, far from the epoch. */
const T0 = Date.UTC(2026, 10, 30);

/** `uptimes(now)` gives the uptimes of the full `summary(now)`, to the bit. */
function assertUptimesOfSummary(windows: UptimeWindows, now: number): void {
  const summary = windows.summary(now);
  assert.deepEqual(windows.uptimes(now), {
    '24h': summary['24h'].uptime,
    '7d': summary['7d'].uptime,
    '30d': summary['30d'].uptime,
  });
}

describe('UptimeWindows', () => {
  it('counts uptime per window: 24 hours to the hour, 7 and 30 days to the day', () => {
    const windows = new UptimeWindows();
    // 40 days of one result an hour; unhealthy on day 35 (hours 840..863) only.
    for (let hour = 0; hour < 40 * 24; hour++) {
      windows.push(
        T0 + hour * HOUR + 60_000,
        10,
        hour >= 35 * 24 && hour < 36 * 24 ? 'unhealthy' : 'healthy',
      );
    }
    const now = T0 + (40 * 24 - 1) * HOUR + 120_000; // within the last hour, on day 39
    const summary = windows.summary(now);
    assert.equal(summary['24h'].samples, 24);
    assert.equal(summary['24h'].uptime, 1);
    assert.equal(summary['7d'].samples, 7 * 24, 'days 33..39');
    assert.equal(summary['7d'].uptime, 6 / 7);
    assert.equal(summary['30d'].samples, 30 * 24, 'days 10..39');
    assert.equal(summary['30d'].uptime, 29 / 30);
  });

  it('forgets what fell out of a window when read later, without a write', () => {
    const windows = new UptimeWindows();
    windows.push(T0, 5, 'unhealthy');
    assert.equal(windows.summary(T0 + 23 * HOUR)['24h'].samples, 1);
    assert.equal(windows.summary(T0 + 24 * HOUR)['24h'].samples, 0, 'the hour left the 24h window');
    assert.equal(windows.summary(T0 + 6 * DAY)['7d'].samples, 1);
    assert.equal(windows.summary(T0 + 7 * DAY)['7d'].samples, 0);
    assert.equal(windows.summary(T0 + 29 * DAY)['30d'].samples, 1);
    assert.equal(windows.summary(T0 + 30 * DAY)['30d'].samples, 0);
    assert.deepEqual(windows.summary(T0 + 31 * DAY)['30d'], {
      samples: 0,
      uptime: 0,
      latencyP50: 0,
      latencyP95: 0,
    });
  });

  it('clears the buckets a gap skipped, and drops results older than the buckets kept', () => {
    const windows = new UptimeWindows();
    windows.push(T0, 5, 'healthy');
    windows.push(T0 + 25 * HOUR, 5, 'unhealthy'); // the ring wrapped past the first hour's slot
    assert.equal(windows.summary(T0 + 25 * HOUR)['24h'].samples, 1);
    assert.equal(windows.summary(T0 + 25 * HOUR)['24h'].uptime, 0);
    windows.push(T0, 5, 'healthy'); // too old for the hourly buckets, still within the daily ones
    assert.equal(windows.summary(T0 + 25 * HOUR)['24h'].samples, 1);
    assert.equal(windows.summary(T0 + 25 * HOUR)['7d'].samples, 3);
    windows.push(T0 + 24 * HOUR, 5, 'healthy'); // a late result for a kept hour counts there
    assert.equal(windows.summary(T0 + 25 * HOUR)['24h'].samples, 2);
  });

  it('estimates percentiles within their log₂ bin', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (latencies) => {
          const windows = new UptimeWindows();
          for (const latency of latencies) windows.push(T0, latency, 'healthy');
          const sorted = [...latencies].sort((a, b) => a - b);
          const exact = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
          const figures = windows.summary(T0)['24h'];
          for (const [estimate, truth] of [
            [figures.latencyP50, exact(0.5)],
            [figures.latencyP95, exact(0.95)],
          ] as const) {
            if (truth < 1) assert.ok(estimate <= 2, `${estimate} for ${truth}`);
            else if (truth < 2 ** 15)
              assert.ok(estimate >= truth / 2 && estimate <= truth * 2, `${estimate} for ${truth}`);
            else assert.ok(estimate >= 2 ** 14, `${estimate} for ${truth}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('halves a histogram rather than overflow, keeping its proportions', () => {
    const windows = new UptimeWindows();
    for (let i = 0; i < 200_000; i++) windows.push(T0 + (i % 1000), i % 4 === 0 ? 100 : 3, 'healthy');
    const figures = windows.summary(T0)['24h'];
    assert.equal(figures.samples, 200_000, 'counts are exact');
    assert.ok(figures.latencyP50 >= 2 && figures.latencyP50 < 4, String(figures.latencyP50));
    assert.ok(figures.latencyP95 >= 64 && figures.latencyP95 < 128, String(figures.latencyP95));
    // A slow stretch, then a fast one: after both bins overflowed, the slow third is still there.
    const shifting = new UptimeWindows();
    for (let i = 0; i < 70_000; i++) shifting.push(T0, 100, 'healthy');
    for (let i = 0; i < 70_000; i++) shifting.push(T0, 3, 'healthy');
    const after = shifting.summary(T0)['24h'];
    assert.ok(after.latencyP50 >= 2 && after.latencyP50 < 4, String(after.latencyP50));
    assert.ok(after.latencyP95 >= 64 && after.latencyP95 < 128, String(after.latencyP95));
  });

  it('gives the same uptimes without the histograms as the full summary', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 40 * DAY }),
            state: fc.constantFrom<'healthy' | 'degraded' | 'unhealthy'>('healthy', 'degraded', 'unhealthy'),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 0, max: 45 * DAY }),
        (results, later) => {
          const windows = new UptimeWindows();
          for (const { at, state } of results) windows.push(T0 + at, 5, state);
          assertUptimesOfSummary(windows, T0 + later);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same uptimes as the full summary when read between results, in order or not (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            // Mostly forward in small steps, as a poller writes; sometimes back, sometimes far ahead.
            step: fc.oneof(
              fc.integer({ min: 0, max: HOUR / 2 }),
              fc.integer({ min: -3 * DAY, max: 0 }),
              fc.integer({ min: 0, max: 35 * DAY }),
            ),
            state: fc.constantFrom<'healthy' | 'degraded' | 'unhealthy'>('healthy', 'degraded', 'unhealthy'),
            // Reads after the result, from the newest result's time: mostly within the next hours, as a dashboard
            // reads, or at the time of the read before (what it summed then must not be reused if it moved).
            reads: fc.array(
              fc.oneof(
                fc.integer({ min: 0, max: 3 * HOUR }),
                fc.integer({ min: -2 * HOUR, max: 40 * DAY }),
                fc.constant('again' as const),
              ),
              { maxLength: 3 },
            ),
          }),
          { maxLength: 150 },
        ),
        (results) => {
          const windows = new UptimeWindows();
          let at = 10 * DAY;
          let newest = at;
          let now = T0 + at;
          for (const { step, state, reads } of results) {
            at = Math.max(0, at + step);
            newest = Math.max(newest, at);
            windows.push(T0 + at, 5, state);
            for (const read of reads) {
              if (read !== 'again') now = T0 + newest + read;
              assertUptimesOfSummary(windows, now);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips through compact bytes, and refuses bytes it cannot read', () => {
    const windows = new UptimeWindows();
    assert.equal(windows.toBytes().byteLength, 2, 'never used: the format and an empty anchor');
    for (let hour = 0; hour < 100; hour++)
      windows.push(T0 + hour * HOUR, hour, hour % 3 ? 'healthy' : 'degraded');
    const bytes = windows.toBytes();
    assert.ok(bytes.byteLength < 400, `${bytes.byteLength} bytes for 55 buckets in use`);
    const copy = UptimeWindows.fromBytes(bytes);
    for (const at of [T0 + 99 * HOUR, T0 + 100 * HOUR, T0 + 10 * DAY])
      assert.deepEqual(copy.summary(at), windows.summary(at));
    assert.deepEqual(copy.toBytes(), bytes);
    // A copy goes on counting like the original.
    copy.push(T0 + 100 * HOUR, 5, 'unhealthy');
    windows.push(T0 + 100 * HOUR, 5, 'unhealthy');
    assert.deepEqual(copy.summary(T0 + 100 * HOUR), windows.summary(T0 + 100 * HOUR));

    assert.throws(() => UptimeWindows.fromBytes(bytes.subarray(0, bytes.byteLength - 1)), /end too soon/);
    assert.throws(() => UptimeWindows.fromBytes(Uint8Array.of(...bytes, 0)), /1 byte left over/);
    const future = Uint8Array.from(bytes);
    future[0] = 9;
    assert.throws(() => UptimeWindows.fromBytes(future), /unknown format 9/);
    // One bucket of 3 results, 4 of them up.
    assert.throws(() => UptimeWindows.fromBytes(Uint8Array.of(2, 1, 3, 4, 1, 3)), /over its bound 3/);
    // One bucket of 3 results whose histogram holds 5.
    assert.throws(() => UptimeWindows.fromBytes(Uint8Array.of(2, 1, 3, 3, 1, 5)), /3 results has 5/);
    assert.throws(
      () => UptimeWindows.fromBytes(Uint8Array.of(2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)),
      /too long/,
    );
    assert.throws(() => UptimeWindows.fromBytes('x' as unknown as Uint8Array), /expected a Uint8Array/);
    assert.throws(() => UptimeWindows.fromBytes(new Uint8Array(UptimeWindows.MAX_BYTES + 1)), /more than/);
    assert.equal(UptimeWindows.BYTES, 2200);
  });

  it('keeps every count it wrote, whatever the results (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 40 * 24 }),
            latency: fc.double({ min: 0, max: 60_000, noNaN: true }),
            state: fc.constantFrom('healthy' as const, 'degraded' as const, 'unhealthy' as const),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 0, max: 45 * 24 }),
        (results, nowHour) => {
          const windows = new UptimeWindows();
          for (const { at, latency, state } of results) windows.push(T0 + at * HOUR, latency, state);
          const copy = UptimeWindows.fromBytes(windows.toBytes());
          assert.deepEqual(copy.summary(T0 + nowHour * HOUR), windows.summary(T0 + nowHour * HOUR));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not count results dated before 1970 or at no time', () => {
    const windows = new UptimeWindows();
    windows.push(-1, 5, 'healthy');
    windows.push(NaN, 5, 'healthy');
    assert.ok(windows.empty);
    windows.push(0, 5, 'healthy');
    assert.equal(windows.summary(0)['24h'].samples, 1);
  });
});
