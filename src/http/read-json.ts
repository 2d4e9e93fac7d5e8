import type { IncomingMessage } from 'node:http';
import { readBody } from './read-body.js';

/** How reading a JSON request body ended. @internal */
export type JsonBody =
  | { readonly kind: 'ok'; readonly value: unknown }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'invalid'; readonly message: string };

/** Whether `Content-Type` names JSON (`application/json`, `application/merge-patch+json` …). @internal */
export function isJsonType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Reads a JSON body of at most `limit` bytes (see `readBody`) and parses it.
 * A body already read and parsed by a framework (Express's `express.json()`
 * leaves it in `req.body`) is taken as it is. JSON.parse of `limit` bytes is
 * bounded too (V8's parser is not recursive). @internal
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const { outcome, bytes } = await readBody(req, limit, true);
  if (outcome !== 'ok') return { kind: outcome };
  if (bytes !== undefined) return parse(bytes);
  const parsed: unknown = (req as { body?: unknown }).body;
  if (typeof parsed === 'object' && parsed !== null && !Buffer.isBuffer(parsed))
    return { kind: 'ok', value: parsed };
  return {
    kind: 'invalid',
    message: 'The request body was already read by the framework in front of the handler',
  };
}

function parse(bytes: Buffer): JsonBody {
  if (bytes.length === 0)
    return { kind: 'invalid', message: 'The request body is empty; send a JSON object' };
  // A fatal decoder: invalid UTF-8 is refused rather than turned into U+FFFD.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'invalid', message: 'The request body is not valid UTF-8' };
  }
  try {
    return { kind: 'ok', value: JSON.parse(text) as unknown };
  } catch (error) {
    // V8's message names the position, never more than a few characters of the input.
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unreadable';
    return { kind: 'invalid', message: `The request body is not valid JSON: ${reason}` };
  }
}
