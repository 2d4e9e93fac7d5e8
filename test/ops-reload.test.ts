// Reload planning and applying (src/cli/reload.ts) and the serialised Reloader, in-process.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogFields, Logger } from '../src/cli/logger.js';
import { Reloader } from '../src/cli/ops-reloader.js';
import type { BuiltProvider } from '../src/cli/providers.js';
import {
  applyPlan,
  installationAfter,
  planReload,
  settingsNeedingRestart,
  type Installed,
} from '../src/cli/reload.js';
import { prepare } from '../src/cli/setup.js';
import { isDependencyError, ProviderRegistry, type RegistryChange } from '../src/index.js';

function installed(
  name: string,
  settings: string,
  dependsOn: readonly string[] = [],
  labels: Record<string, string> = {},
): Installed {
  const built: BuiltProvider = { name, type: 'tcp', target: name, checker: { healthCheck() {} } };
  return { built, settings, labels, dependsOn };
}

function installation(...list: Installed[]): Map<string, Installed> {
  return new Map(list.map((item) => [item.built.name, item]));
}

/** A registry holding `list` as the running service would. */
function registryOf(list: Map<string, Installed>): ProviderRegistry {
  const registry = new ProviderRegistry();
  const pending = [...list.values()];
  while (pending.length > 0) {
    const at = pending.findIndex((item) => item.dependsOn.every((name) => registry.has(name)));
    const [item] = pending.splice(at, 1) as [Installed];
    registry.register(item.built.name, item.built.checker, {
      labels: item.labels,
      dependsOn: item.dependsOn,
    });
  }
  return registry;
}

function graph(registry: ProviderRegistry): Record<string, readonly string[]> {
  return Object.fromEntries(registry.names().map((name) => [name, registry.dependsOn(name)]));
}

describe('planReload and applyPlan', () => {
  it('sorts providers into added, removed, changed and unchanged; a relabelled one keeps its checker', () => {
    const current = installation(
      installed('same', 's'),
      installed('moved', 'm', [], { env: 'dev' }),
      installed('retuned', 'r1'),
      installed('gone', 'g'),
    );
    const next = installation(
      installed('same', 's'),
      installed('moved', 'm', [], { env: 'prod' }),
      installed('retuned', 'r2'),
      installed('new', 'n'),
    );
    const registry = registryOf(current);
    const changes: RegistryChange['type'][] = [];
    registry.onChange((change) => changes.push(change.type));
    const plan = planReload(current, next);
    assert.deepEqual(
      plan.added.map((item) => item.built.name),
      ['new'],
    );
    assert.deepEqual(plan.removed, ['gone']);
    assert.deepEqual(
      plan.updated.map((item) => [item.built.name, item.kind]),
      [
        ['moved', 'relabelled'],
        ['retuned', 'changed'],
      ],
    );
    assert.deepEqual(plan.unchanged, ['same']);
    assert.deepEqual(plan.renamed, []);

    applyPlan(registry, plan);
    assert.deepEqual(changes.sort(), ['registered', 'relabelled', 'replaced', 'unregistered']);
    assert.equal(registry.get('same'), current.get('same')?.built.checker, 'unchanged: the same object');
    assert.equal(registry.get('moved'), current.get('moved')?.built.checker, 'relabelled: the same object');
    assert.deepEqual({ ...registry.labels('moved') }, { env: 'prod' });
    assert.equal(registry.get('retuned'), next.get('retuned')?.built.checker, 'changed: the new checker');
    assert.deepEqual(registry.names(), ['moved', 'new', 'retuned', 'same']);
    const after = installationAfter(plan, current, next);
    assert.equal(after.get('moved')?.built, current.get('moved')?.built);
    assert.equal(after.get('same')?.built, current.get('same')?.built);
  });

  it('respects dependencies: removes dependents first, adds dependencies first, flips an edge', () => {
    // Running: app -> db -> net, web -> app, old -> web (x -> y: x depends on y).
    const current = installation(
      installed('net', 'net'),
      installed('db', 'db', ['net']),
      installed('app', 'app', ['db']),
      installed('web', 'web', ['app']),
      installed('old', 'old', ['web']),
    );
    // Next: old and web gone, db no longer needs net, net needs db, app needs a new cache -> store chain.
    const next = installation(
      installed('db', 'db'),
      installed('net', 'net', ['db']),
      installed('store', 'store'),
      installed('cache', 'cache', ['store']),
      installed('app', 'app', ['db', 'cache']),
    );
    const registry = registryOf(current);
    const plan = planReload(current, next);
    assert.deepEqual(plan.removed, ['old', 'web'], 'dependents first');
    assert.deepEqual(
      plan.added.map((item) => item.built.name),
      ['store', 'cache'],
      'dependencies first',
    );
    applyPlan(registry, plan);
    assert.deepEqual(graph(registry), {
      app: ['db', 'cache'],
      cache: ['store'],
      db: [],
      net: ['db'],
      store: [],
    });
  });

  it('calls a removed entry that comes back under another name a rename', () => {
    const current = installation(installed('orders', 'tcp orders:5432'), installed('web', 'w'));
    const next = installation(installed('orders-db', 'tcp orders:5432'), installed('web', 'w'));
    const plan = planReload(current, next);
    assert.deepEqual(plan.renamed, [{ from: 'orders', to: 'orders-db' }]);
    assert.deepEqual(plan.removed, ['orders']);
    assert.deepEqual(
      plan.added.map((item) => item.built.name),
      ['orders-db'],
    );
  });

  it('changes nothing when the registry would refuse the plan halfway', () => {
    const current = installation(installed('a', 'a'), installed('b', 'b', ['a']));
    const registry = registryOf(current);
    const changes: RegistryChange[] = [];
    registry.onChange((change) => changes.push(change));
    // A plan built by hand that adds a provider depending on a name nobody registers.
    const plan = planReload(current, installation(installed('a', 'a'), installed('c', 'c', ['ghost'])));
    assert.throws(
      () => applyPlan(registry, plan),
      (error: unknown) => isDependencyError(error) && error.kind === 'unknown',
    );
    assert.deepEqual(changes, []);
    assert.deepEqual(graph(registry), { a: [], b: ['a'] });
  });

  it('names the settings that need a restart, never their values', () => {
    const before = {
      pollInterval: 30_000,
      server: { port: 7070, token: 'old-secret' },
      providers: [],
      notifiers: [],
    } as never;
    const after = {
      pollInterval: 10_000,
      server: { port: 7070, token: 'new-secret' },
      providers: [{ name: 'x' }],
      discover: true,
      notifiers: [{ name: 'n' }],
    } as never;
    assert.deepEqual(settingsNeedingRestart(before, after), ['notifiers', 'pollInterval', 'server.token']);
    assert.deepEqual(settingsNeedingRestart(undefined, undefined), []);
  });
});

describe('Reloader', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provider-health-ops-reload-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function capture(): { log: Logger; lines: string[] } {
    const lines: string[] = [];
    const write =
      (level: string) =>
      (message: string, _fields?: LogFields): void => {
        lines.push(`${level} ${message}`);
      };
    return { lines, log: { info: write('INFO'), warn: write('WARN'), error: write('ERROR') } };
  }

  const tcp = (name: string, port: number) => ({ name, type: 'tcp', host: '127.0.0.1', port });

  it('runs one reload at a time; requests made while one waits join it', async () => {
    const file = join(dir, 'serial.json');
    await writeFile(file, JSON.stringify({ providers: [tcp('a', 1)] }));
    const io = { env: {}, cwd: dir };
    const setup = await prepare(file, io);
    const { log, lines } = capture();
    const reloader = new Reloader(setup, io, log, new AbortController().signal);

    await writeFile(file, JSON.stringify({ providers: [tcp('a', 1), tcp('b', 2)] }));
    const first = reloader.reload('one');
    assert.equal(reloader.reload('one again'), first, 'asked before the first started: the same reload');
    // A turn of the event loop: the first is now reading the file.
    await new Promise((resolve) => setImmediate(resolve));
    const second = reloader.reload('two');
    const third = reloader.reload('three');
    assert.notEqual(second, first, 'the second waits for the first');
    assert.equal(second, third, 'the third joins the second, which waits for the first');
    const [one, two] = await Promise.all([first, second]);
    assert.ok(one.ok && two.ok);
    assert.deepEqual(one.report.added, ['b']);
    assert.deepEqual(two.report.added, [], 'the second ran after the first had applied its change');
    assert.deepEqual(two.report.unchanged, ['a', 'b']);
    assert.deepEqual(
      lines.filter((line) => /^INFO reload/.test(line)),
      ['INFO reload (one): 1 added (b), 1 unchanged', 'INFO reload (two): no provider changed (2 unchanged)'],
    );
    assert.deepEqual(setup.registry.names(), ['a', 'b']);
  });

  it('keeps the running providers when the file has errors, and logs each error with its line', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'providers:\n  - name: a\n    type: tcp\n    host: 127.0.0.1\n    port: 1\n');
    const io = { env: {}, cwd: dir };
    const setup = await prepare('bad.yaml', io);
    const { log, lines } = capture();
    const reloader = new Reloader(setup, io, log, new AbortController().signal);
    await writeFile(file, 'providers:\n  - name: a\n    type: tcpp\n    host: 127.0.0.1\n    port: 1\n');
    const outcome = await reloader.reload('SIGHUP');
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok);
    assert.equal(outcome.errors.length, 1);
    assert.match(outcome.errors[0] ?? '', /^bad\.yaml:3: providers\[0\]\.type: expected one of/);
    assert.deepEqual(lines, [
      'ERROR reload (SIGHUP) refused, the running config stays: 1 problem',
      `ERROR reload: ${outcome.errors[0]}`,
    ]);
    assert.deepEqual(setup.registry.names(), ['a']);
  });
});
