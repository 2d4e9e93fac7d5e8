/**
 * The two messages of the gRPC health checking protocol
 * (`grpc.health.v1.Health/Check`), encoded by hand so that neither a `.proto`
 * file nor a protobuf library is needed:
 *
 * ```proto
 * message HealthCheckRequest { string service = 1; }
 * message HealthCheckResponse {
 *   enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
 *   ServingStatus status = 1;
 * }
 * ```
 * @internal
 */

/** The method's full path. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** The status names of `HealthCheckResponse.ServingStatus`, by number. */
export const SERVING_STATUS: readonly string[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** The longest service name accepted, in UTF-8 bytes (names are short identifiers such as `pkg.Service`). */
export const MAX_SERVICE_BYTES = 1024;

function encodeVarint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** `HealthCheckRequest { service }`; an empty service is the empty message (proto3 omits defaults). */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const text = Buffer.from(service, 'utf8');
  // Field 1, wire type 2 (length-delimited): tag 0x0a.
  return Buffer.concat([Buffer.from([0x0a, ...encodeVarint(text.length)]), text]);
}

/** A malformed `HealthCheckResponse`. */
export class MalformedResponseError extends Error {
  override name = 'MalformedResponseError';
}

function readVarint(buffer: Buffer, start: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let offset = start; offset < buffer.length && offset < start + 10; offset += 1) {
    const byte = buffer[offset] ?? 0;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, offset + 1];
    scale *= 128;
  }
  throw new MalformedResponseError('truncated varint');
}

/**
 * The `status` number of a `HealthCheckResponse` (0, `UNKNOWN`, when absent,
 * as proto3 says; the last occurrence wins). Unknown fields are skipped, as
 * protobuf requires, so a newer server's additions do not break the check.
 */
export function decodeHealthCheckResponse(buffer: Buffer): number {
  let status = 0;
  let offset = 0;
  while (offset < buffer.length) {
    const [tag, afterTag] = readVarint(buffer, offset);
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new MalformedResponseError('field number 0');
    if (wireType === 0) {
      const [value, next] = readVarint(buffer, afterTag);
      if (field === 1) status = value;
      offset = next;
    } else if (wireType === 1 || wireType === 5) {
      offset = afterTag + (wireType === 1 ? 8 : 4);
    } else if (wireType === 2) {
      const [length, next] = readVarint(buffer, afterTag);
      offset = next + length;
    } else {
      throw new MalformedResponseError(`unsupported wire type ${wireType}`);
    }
    if (offset > buffer.length) throw new MalformedResponseError('truncated field');
  }
  return status;
}

/** The name of a status number, such as `NOT_SERVING`, or `status 7` for one this protocol version does not define. */
export function servingStatusName(status: number): string {
  return SERVING_STATUS[status] ?? `status ${status}`;
}
