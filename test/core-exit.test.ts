import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/core-run-and-stop.ts', import.meta.url));

function runFixture(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A safety net only: a process that does not exit by itself fails the test.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
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
