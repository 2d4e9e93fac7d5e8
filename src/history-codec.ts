import { ByteReader, ByteWriter } from './history-bytes.js';
import type { HistoryExport } from './history-keeper.js';
import type { HistorySample } from './history.js';
import { FrozenDate, type CheckState } from './status.js';
import { UptimeWindows } from './uptime-windows.js';

/** The byte form's version. */
const FORMAT = 1;
const STATES: readonly CheckState[] = ['healthy', 'degraded', 'unhealthy'];
/** The latest valid `Date`, in ms. */
const MAX_TIME = 8.64e15;
const NANOS_PER_MILLI = 1_000_000;
/** Latencies are kept to the nanosecond, up to this (104 days; longer ones are saved as this). */
const MAX_LATENCY_NANOS = 2 ** 53 - 1;
/** Header bits of a sample: the state (2 bits), silenced, and whether its time is before the previous one's. */
const SILENCED = 4;
const EARLIER = 8;
/** Per sample at most: header, time and latency varints. */
const MAX_SAMPLE_BYTES = 1 + 8 + 8;

/**
 * Encodes a provider's history ({@link HistoryExport}) as compact bytes, for
 * a state file or a Redis value: the format, the sample count, each sample
 * as a header byte (state, silenced), its time as a varint of ms since the
 * previous sample's (the first since the epoch) and its latency as a varint
 * of nanoseconds, then the uptime windows' own byte form. About 8 bytes a
 * sample: 60 samples and 30 days of windows take about 1 KB. Times are kept
 * to the millisecond, latencies to the nanosecond (the wire form's units).
 * @throws TypeError for samples or windows {@link decodeHistory} would refuse.
 */
export function encodeHistory(history: HistoryExport): Uint8Array {
  const { samples, windows } = history;
  UptimeWindows.fromBytes(windows); // refuse now what could not be read back
  const out = new ByteWriter(1 + 8 + samples.length * MAX_SAMPLE_BYTES + 8 + windows.byteLength);
  out.byte(FORMAT);
  out.varint(samples.length);
  let previous = 0;
  samples.forEach((sample, index) => {
    const at = Math.round(sample.checkedAt.getTime());
    if (!(at >= 0 && at <= MAX_TIME)) throw new TypeError(`History: samples[${index}] has no valid time`);
    const state = STATES.indexOf(sample.state);
    if (state < 0) throw new TypeError(`History: samples[${index}] has an unknown state`);
    if (!(sample.latency >= 0)) throw new TypeError(`History: samples[${index}] has no valid latency`);
    out.byte(state | (sample.silenced ? SILENCED : 0) | (at < previous ? EARLIER : 0));
    out.varint(Math.abs(at - previous));
    out.varint(Math.min(Math.round(sample.latency * NANOS_PER_MILLI), MAX_LATENCY_NANOS));
    previous = at;
  });
  out.varint(windows.byteLength);
  for (const byte of windows) out.byte(byte);
  return out.done();
}

/**
 * Reads what {@link encodeHistory} wrote. The samples are frozen, with
 * frozen dates; nothing is trusted: every count, time and length is checked
 * against its bound before it is used.
 * @throws TypeError naming the problem.
 */
export function decodeHistory(bytes: Uint8Array): HistoryExport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('History: expected a Uint8Array');
  const input = new ByteReader(bytes, 'History');
  const format = input.byte();
  if (format !== FORMAT)
    throw new TypeError(`History: unknown format ${format} (this version reads ${FORMAT})`);
  // Each sample takes 3 bytes at least: a count beyond that cannot be true.
  const count = input.varint(Math.floor(bytes.byteLength / 3));
  const samples: HistorySample[] = [];
  let previous = 0;
  for (let index = 0; index < count; index++) {
    const header = input.byte();
    const state = STATES[header & 3];
    if (state === undefined || header > (EARLIER | SILENCED | 3))
      throw new TypeError(`History: samples[${index}] has a bad header ${header}`);
    const delta = input.varint(MAX_TIME);
    const at = (header & EARLIER) === 0 ? previous + delta : previous - delta;
    if (!(at >= 0 && at <= MAX_TIME)) throw new TypeError(`History: samples[${index}] has no valid time`);
    const latency = input.varint(MAX_LATENCY_NANOS) / NANOS_PER_MILLI;
    samples.push(
      Object.freeze({ checkedAt: new FrozenDate(at), latency, state, silenced: (header & SILENCED) !== 0 }),
    );
    previous = at;
  }
  const length = input.varint(UptimeWindows.MAX_BYTES);
  const windows = new Uint8Array(length);
  for (let index = 0; index < length; index++) windows[index] = input.byte();
  input.end();
  UptimeWindows.fromBytes(windows);
  return Object.freeze({ samples: Object.freeze(samples), windows });
}
