/** The longest varint read: 8 bytes of 7 bits hold any safe integer. */
const MAX_VARINT_BYTES = 8;

/**
 * Appends bytes and unsigned LEB128 varints (non-negative safe integers, 7
 * bits a byte) to a buffer of a known bound; the byte forms of the uptime
 * windows and the history use it. @internal
 */
export class ByteWriter {
  readonly #buffer: Uint8Array;
  #length = 0;

  /** @param capacity The most bytes that will be written (the caller's bound). */
  constructor(capacity: number) {
    this.#buffer = new Uint8Array(capacity);
  }

  byte(value: number): void {
    this.#buffer[this.#length++] = value;
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.#length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#buffer[this.#length++] = rest;
  }

  /** A copy of what was written. */
  done(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

/**
 * Reads what a {@link ByteWriter} wrote, each value checked against its
 * bound; every problem is a TypeError starting with `what`. @internal
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #at = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  byte(): number {
    if (this.#at >= this.#bytes.byteLength) throw new TypeError(`${this.#what}: the bytes end too soon`);
    return this.#bytes[this.#at++] ?? 0;
  }

  /**
   * A varint of at most `max` (a safe integer).
   * @throws TypeError when the bytes end, the varint is longer than 8 bytes, or its value is over `max`.
   */
  varint(max: number): number {
    let value = 0;
    let scale = 1;
    for (let length = 1; ; length++) {
      if (length > MAX_VARINT_BYTES) throw new TypeError(`${this.#what}: a varint is too long`);
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (value > max) throw new TypeError(`${this.#what}: a value is over its bound ${max}`);
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  /** @throws TypeError when bytes are left over. */
  end(): void {
    const left = this.#bytes.byteLength - this.#at;
    if (left !== 0) throw new TypeError(`${this.#what}: ${left} byte${left === 1 ? '' : 's'} left over`);
  }
}
