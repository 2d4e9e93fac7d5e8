import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './responses.js';

/** Why a refresh was refused, or `undefined` when allowed. @internal */
export interface RefreshDenial {
  readonly status: 401 | 403;
  readonly message: string;
}

/**
 * Decides who may trigger checks and change silences: the holder of `token`
 * when one is configured, otherwise loopback clients only. @internal
 */
export class RefreshAuth {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    // Hashing both sides gives equal lengths, so the comparison time reveals nothing about the token.
    this.#digest = token === undefined ? undefined : sha256(token);
  }

  /** `undefined` when `req` may do `action` (named in the refusal: "Refresh", "Changing silences"). */
  check(req: IncomingMessage, action = 'Refresh'): RefreshDenial | undefined {
    if (this.#digest === undefined) {
      return isLoopback(req.socket.remoteAddress)
        ? undefined
        : {
            status: 403,
            message: `${action} is only allowed from loopback clients unless the handler is given a token`,
          };
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (match?.[1] === undefined) {
      return { status: 401, message: `${action} requires an Authorization: Bearer token` };
    }
    if (!timingSafeEqual(sha256(match[1]), this.#digest)) {
      return { status: 401, message: 'The bearer token is not valid' };
    }
    return undefined;
  }
}

/** Answers a refusal from {@link RefreshAuth.check} (401 with `WWW-Authenticate`, or 403). @internal */
export function sendDenial(req: IncomingMessage, res: ServerResponse, denial: RefreshDenial): void {
  const headers: Record<string, string> =
    denial.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="provider-health"' } : {};
  sendError(req, res, denial.status, denial.message, headers);
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
