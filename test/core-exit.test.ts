import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runChild, type ChildResult } from './support/child.js';

const fixture = fileURLToPath(new URL('./fixtures/core-run-and-stop.ts', import.meta.url));

function runFixture(mode: string): Promise<ChildResult> {
  return runChild(process.execPath, ['--import', 'tsx', fixture, mode]);
}

describe('process lifetime', () => {
  it('a program that starts and stops run() exits on its own, even with a hung checker', async () => {
    const result = await runFixture('stop');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /sweep checked=2 ok=true hung=timed out after 200 ms/);
    assert.match(result.stdout, /run resolved/);
  });

  it('a running poller alone does not keep a program alive (its timers are unref()ed)', async () => {
    const result = await runFixture('abandon');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /sweep checked=2/);
  });
});
