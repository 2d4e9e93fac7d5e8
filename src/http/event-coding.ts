import { promisify } from 'node:util';
import { constants, deflateRaw, deflateRawSync } from 'node:zlib';

/**
 * gzip for event streams, computed once for every client. A gzip stream is a
 * 10-byte header, then deflate blocks (and a trailer only at its end). Each
 * write is compressed on its own (a fresh compressor, in libuv's thread
 * pool) and sync-flushed: its blocks end byte-aligned and refer to nothing
 * before them. So the same compressed bytes continue any client's stream,
 * whenever it joined: each gets its own header, then the shared blocks.
 * What is one client's alone (the `retry` line and its snapshot's id) goes
 * as stored blocks, which need no compressor. A stream that ends has no
 * trailer (as when a connection drops); an EventSource reconnects as it
 * would anyway. @internal
 */

/** The gzip header: deflate, no name, no time, unknown OS. */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

const deflateAsync = promisify(deflateRaw);
const SYNC = { finishFlush: constants.Z_SYNC_FLUSH, level: 6 };

/** `bytes` as sync-flushed deflate blocks that continue any stream at a block boundary. @internal */
export function deflateBlocks(bytes: Buffer): Promise<Buffer> {
  return deflateAsync(bytes, SYNC);
}

/** The same, now (small constant texts such as the heartbeat). @internal */
export function deflateBlocksSync(bytes: Buffer): Buffer {
  return deflateRawSync(bytes, SYNC);
}

/** `bytes` as stored (uncompressed) deflate blocks, at most 65,535 bytes each. @internal */
export function storedBlocks(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || at === 0; at += 65_535) {
    const data = bytes.subarray(at, at + 65_535);
    const head = Buffer.alloc(5);
    // BFINAL 0, BTYPE 00 (stored), padding to the byte; LEN then its one's complement, little-endian.
    head.writeUInt16LE(data.length, 1);
    head.writeUInt16LE(~data.length & 0xffff, 3);
    parts.push(head, data);
    if (bytes.length === 0) break;
  }
  return Buffer.concat(parts);
}

/**
 * The compressed blocks of a snapshot body, once per body version (bodies are
 * cached buffers: the same buffer is the same version). @internal
 */
export class BlockCache {
  readonly #blocks = new WeakMap<Buffer, Promise<Buffer>>();

  get(body: Buffer): Promise<Buffer> {
    let blocks = this.#blocks.get(body);
    if (blocks === undefined) {
      blocks = deflateBlocks(body);
      this.#blocks.set(body, blocks);
    }
    return blocks;
  }
}
