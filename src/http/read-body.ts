import type { IncomingMessage } from 'node:http';

/** How reading a request body ended. @internal */
export type BodyOutcome = 'ok' | 'too-large' | 'aborted';

/**
 * Reads and discards a request body up to `limit` bytes. Bodies already read
 * by a framework count as read. Resolves when the body ended, grew past
 * `limit`, or the client went away; releases its listeners either way.
 * @internal
 */
export function drainBody(req: IncomingMessage, limit: number): Promise<BodyOutcome> {
  if (req.readableEnded || req.complete) return Promise.resolve('ok');
  return new Promise((resolve) => {
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish('too-large');
    };
    const onEnd = (): void => finish('ok');
    const onClose = (): void => finish(req.complete ? 'ok' : 'aborted');
    const finish = (result: BodyOutcome): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
      // Keep discarding whatever else arrives so the connection is not stuck.
      if (result !== 'ok') req.resume();
      resolve(result);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}
