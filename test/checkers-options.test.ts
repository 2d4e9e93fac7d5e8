import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerChecker } from '../src/checkers/docker.js';
import { httpChecker } from '../src/checkers/http.js';
import { kubernetesChecker } from '../src/checkers/kubernetes.js';
import { nomadChecker } from '../src/checkers/nomad.js';
import { tcpChecker } from '../src/checkers/tcp.js';
import { isOptionError } from '../src/errors.js';

/**
 * Issue 9: every checker option error is an OptionTypeError/OptionRangeError
 * carrying `option`, `value` (undefined for secrets) and `scope`, with the
 * `checker: option must be …, got …` message shape.
 */

interface Case {
  readonly make: () => unknown;
  readonly name: 'TypeError' | 'RangeError';
  readonly scope: string;
  readonly option: string;
  readonly value: unknown;
  readonly message?: string;
}

const PASSWORD = 'hunter2-secret-pw';
const TOKEN = 'nomad-secret-token-1234';
const KEY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-real-key';

const cases: Case[] = [
  {
    make: () => dockerChecker({ host: 'ssh://me@host' }),
    name: 'TypeError',
    scope: 'dockerChecker',
    option: 'host',
    value: 'ssh://me@host',
  },
  {
    make: () => dockerChecker({ env: { DOCKER_HOST: 'unix://relative.sock' } }),
    name: 'TypeError',
    scope: 'dockerChecker',
    option: 'DOCKER_HOST',
    value: 'unix://relative.sock',
    message: 'dockerChecker: DOCKER_HOST must be unix:///absolute/path, got "unix://relative.sock"',
  },
  {
    make: () => dockerChecker({ slowThreshold: -5 }),
    name: 'RangeError',
    scope: 'dockerChecker',
    option: 'slowThreshold',
    value: -5,
  },
  {
    make: () => dockerChecker({ tls: { verify: 'yes' as never } }),
    name: 'TypeError',
    scope: 'dockerChecker',
    option: 'tls.verify',
    value: 'yes',
  },
  {
    make: () => dockerChecker({ certExpiryWarning: Number.NaN }),
    name: 'TypeError',
    scope: 'dockerChecker',
    option: 'certExpiryWarning',
    value: Number.NaN,
  },
  {
    make: () => tcpChecker({ host: 'a', port: 70_000 }),
    name: 'RangeError',
    scope: 'tcpChecker',
    option: 'port',
    value: 70_000,
    message: 'tcpChecker: port must be from 1 to 65535, got 70000',
  },
  {
    make: () => tcpChecker({ host: 'a', port: 1, clock: {} as never }),
    name: 'TypeError',
    scope: 'tcpChecker',
    option: 'clock',
    value: {},
    message: 'tcpChecker: clock must be an object with a now() method, got an object',
  },
  {
    make: () => httpChecker({ url: 'http://127.0.0.1/', expectedStatus: 99 }),
    name: 'TypeError',
    scope: 'httpChecker',
    option: 'expectedStatus',
    value: 99,
  },
  {
    make: () => httpChecker({ url: `ftp://user:${PASSWORD}@127.0.0.1/` }),
    name: 'TypeError',
    scope: 'httpChecker',
    option: 'url',
    value: undefined,
    message: 'httpChecker: url must use http: or https:, got ftp:',
  },
  {
    make: () => httpChecker({ url: 'https://127.0.0.1/', headers: { Authorization: `Bearer ${TOKEN}\n` } }),
    name: 'TypeError',
    scope: 'httpChecker',
    option: 'headers.Authorization',
    value: undefined,
  },
  {
    make: () => httpChecker({ url: 'https://127.0.0.1/', tls: { key: KEY } }),
    name: 'TypeError',
    scope: 'httpChecker',
    option: 'tls.key',
    value: undefined,
  },
  {
    make: () => nomadChecker({ token: `${TOKEN}\r\n` }),
    name: 'TypeError',
    scope: 'nomadChecker',
    option: 'token',
    value: undefined,
  },
  {
    make: () => nomadChecker({ address: `ftp://u:${PASSWORD}@nomad:4646` }),
    name: 'TypeError',
    scope: 'nomadChecker',
    option: 'address',
    value: undefined,
  },
  {
    make: () => nomadChecker({ env: { NOMAD_SKIP_VERIFY: 'maybe' } }),
    name: 'TypeError',
    scope: 'nomadChecker',
    option: 'NOMAD_SKIP_VERIFY',
    value: 'maybe',
    message: 'nomadChecker: NOMAD_SKIP_VERIFY must be true or false, got "maybe"',
  },
  {
    make: () => kubernetesChecker({ context: 7 as never }),
    name: 'TypeError',
    scope: 'kubernetesChecker',
    option: 'context',
    value: 7,
    message: 'kubernetesChecker: context must be a non-empty string, got 7',
  },
  {
    make: () => kubernetesChecker({ certExpiryWarning: -1 }),
    name: 'RangeError',
    scope: 'kubernetesChecker',
    option: 'certExpiryWarning',
    value: -1,
    message: 'kubernetesChecker: certExpiryWarning must be at least 0, got -1',
  },
];

describe('checker option errors', () => {
  for (const entry of cases) {
    it(`${entry.scope}: ${entry.option} is a typed ${entry.name}`, () => {
      assert.throws(entry.make, (error: unknown) => {
        assert.ok(isOptionError(error), String(error));
        assert.equal(error.name, entry.name);
        assert.equal(error.option, entry.option);
        assert.equal(error.scope, entry.scope);
        assert.deepEqual(error.value, entry.value);
        assert.ok(error.message.startsWith(`${entry.scope}: `), error.message);
        if (entry.message !== undefined) assert.equal(error.message, entry.message);
        for (const secret of [PASSWORD, TOKEN, KEY])
          assert.ok(!error.message.includes(secret), error.message);
        return true;
      });
    });
  }
});
