import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderRegistry, type RegistryChange } from '../src/index.js';

describe('ProviderRegistry', () => {
  it('registers, replaces, lists sorted names and unregisters, emitting typed changes', () => {
    const registry = new ProviderRegistry();
    const changes: RegistryChange[] = [];
    registry.onChange((change) => changes.push(change));
    const a = { healthCheck: async () => undefined };
    const b = {};
    registry.register('zeta', a);
    registry.register('alpha', b);
    assert.deepEqual(registry.names(), ['alpha', 'zeta']);
    assert.equal(registry.get('zeta'), a);
    const replacement = { healthCheck: async () => undefined };
    registry.register('zeta', replacement);
    assert.equal(registry.get('zeta'), replacement);
    assert.equal(registry.unregister('alpha'), true);
    assert.equal(registry.unregister('alpha'), false);
    assert.deepEqual(registry.names(), ['zeta']);
    assert.equal(registry.size, 1);
    assert.deepEqual(
      changes.map((c) => [c.type, c.name]),
      [
        ['registered', 'zeta'],
        ['registered', 'alpha'],
        ['replaced', 'zeta'],
        ['unregistered', 'alpha'],
      ],
    );
  });

  it('returns the same frozen names array until a name is added or removed', () => {
    const registry = new ProviderRegistry();
    registry.register('a', {});
    const first = registry.names();
    assert.ok(Object.isFrozen(first));
    registry.register('a', { other: true });
    assert.equal(registry.names(), first, 'replacing keeps the name list');
    registry.register('b', {});
    assert.notEqual(registry.names(), first);
  });

  it('rejects empty and non-string names and non-object providers with clear errors', () => {
    const registry = new ProviderRegistry();
    assert.throws(() => registry.register('', {}), /non-empty string, got ""/);
    assert.throws(() => registry.register(42 as never, {}), /non-empty string, got number/);
    assert.throws(() => registry.register(undefined as never, {}), /non-empty string, got undefined/);
    assert.throws(() => registry.register('x', null as never), /"x" must be an object.*got null/);
    assert.throws(() => registry.register('x', 'docker' as never), /"x" must be an object.*got string/);
    assert.equal(registry.size, 0);
  });

  it('unsubscribes through the disposable and through an AbortSignal', () => {
    const registry = new ProviderRegistry();
    let viaDispose = 0;
    let viaSignal = 0;
    const subscription = registry.onChange(() => viaDispose++);
    const controller = new AbortController();
    registry.onChange(() => viaSignal++, { signal: controller.signal });
    registry.register('a', {});
    subscription.dispose();
    controller.abort();
    registry.register('b', {});
    assert.equal(viaDispose, 1);
    assert.equal(viaSignal, 1);
  });

  it('keeps working when a listener throws', () => {
    const registry = new ProviderRegistry();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    let seen = 0;
    registry.onChange(() => {
      throw new Error('listener bug');
    });
    registry.onChange(() => seen++);
    registry.register('a', {});
    assert.equal(seen, 1);
    assert.equal(registry.get('a') !== undefined, true);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        assert.ok(warnings.some((w) => w.includes('listener bug')));
        resolve();
      }),
    );
  });
});
