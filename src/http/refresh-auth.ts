import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a refresh was refused, or `undefined` when allowed. @internal */
export interface RefreshDenial {
  readonly status: 401 | 403;
  readonly message: string;
}

/**
 * Decides who may trigger checks: the holder of `token` when one is
 * configured, otherwise loopback clients only. @internal
 */
export class RefreshAuth {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    // Hashing both sides gives equal lengths, so the comparison time reveals nothing about the token.
    this.#digest = token === undefined ? undefined : sha256(token);
  }

  /** `undefined` when `req` may refresh. */
  check(req: IncomingMessage): RefreshDenial | undefined {
    if (this.#digest === undefined) {
      return isLoopback(req.socket.remoteAddress)
        ? undefined
        : {
            status: 403,
            message: 'Refresh is only allowed from loopback clients unless the handler is given a token',
          };
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (match?.[1] === undefined) {
      return { status: 401, message: 'Refresh requires an Authorization: Bearer token' };
    }
    if (!timingSafeEqual(sha256(match[1]), this.#digest)) {
      return { status: 401, message: 'The bearer token is not valid' };
    }
    return undefined;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `address` is 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address. @internal */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1' || address === '0:0:0:0:0:0:0:1';
}
