import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../src/cli/logger.js';

/** A logger writing into an array, at a fixed time. */
function capture(format: 'text' | 'json'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger(format, { write: (text: string) => lines.push(text) }, () => new Date(0));
  return { lines, log };
}

describe('serve log lines', () => {
  it('keep outside text to one plain line: control characters are shown escaped, never written raw', () => {
    const { lines, log } = capture('text');
    log.info('silence added by me\u0000\u001b[31m red\r fake line\nnext\u009b end\ttab');
    assert.equal(lines.length, 1);
    assert.equal(
      lines[0],
      '1970-01-01T00:00:00.000Z INFO  silence added by me\\u0000\\u001b[31m red\\u000d fake line next\\u009b end\ttab\n',
    );
  });

  it('escape them in JSON lines too (JSON.stringify), and redact credentials in both forms', () => {
    const { lines, log } = capture('json');
    log.warn('token\u001b x', { url: 'https://user:hunter2@example.com/' });
    const record = JSON.parse(lines[0] ?? '') as { msg: string; url: string };
    assert.equal(record.msg, 'token\u001b x');
    assert.ok(!(lines[0] ?? '').includes('\u001b'), 'the raw escape is not in the line');
    assert.ok(!record.url.includes('hunter2'));
  });
});
