import type { IncomingMessage } from 'node:http';

/** How reading a request body ended. @internal */
export type BodyOutcome = 'ok' | 'too-large' | 'aborted';

/**
 * Reads a request body of at most `limit` bytes: kept when `keep` is set
 * (for parsing), discarded otherwise. Reading stops at `limit` and the rest
 * is discarded, so memory stays bounded whatever the client sends. Bodies
 * already read by a framework count as read (`bytes` is then `undefined`).
 * Resolves when the body ended, grew past `limit`, or the client went away;
 * releases its listeners either way. The one body reader of the HTTP surface.
 * @internal
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  keep: boolean,
): Promise<{ readonly outcome: BodyOutcome; readonly bytes: Buffer | undefined }> {
  if (req.readableEnded || req.complete) return Promise.resolve({ outcome: 'ok', bytes: undefined });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish('too-large');
      else if (keep) chunks.push(chunk);
    };
    const onEnd = (): void => finish('ok');
    const onClose = (): void => finish(req.complete ? 'ok' : 'aborted');
    const finish = (outcome: BodyOutcome): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
      // Keep discarding whatever else arrives so the connection is not stuck.
      if (outcome !== 'ok') req.resume();
      resolve({ outcome, bytes: outcome === 'ok' && keep ? Buffer.concat(chunks) : undefined });
      chunks.length = 0;
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}

/** Reads and discards a request body up to `limit` bytes (see {@link readBody}). @internal */
export async function drainBody(req: IncomingMessage, limit: number): Promise<BodyOutcome> {
  return (await readBody(req, limit, false)).outcome;
}
