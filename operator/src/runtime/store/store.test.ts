import { Store } from './store.js';
import { compileSelector } from './label-selector.js';
import type { KubernetesObject } from '../types.js';

const obj = (ns: string | undefined, name: string, labels: Record<string, string> = {}): KubernetesObject => ({
  metadata: { ...(ns ? { namespace: ns } : {}), name, labels },
});

describe('Store', () => {
  test('indexes by namespace/name and by namespace', () => {
    const store = new Store();
    store.upsert(obj('a', 'x'));
    store.upsert(obj('a', 'y'));
    store.upsert(obj('b', 'x'));
    store.upsert(obj(undefined, 'cluster-wide'));
    expect(store.get({ namespace: 'a', name: 'x' })?.metadata?.namespace).toBe('a');
    expect(store.get({ name: 'cluster-wide' })).toBeDefined();
    expect(
      store
        .list('a')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(store.list()).toHaveLength(4);
    expect(store.remove({ namespace: 'a', name: 'x' })?.metadata?.name).toBe('x');
    expect(store.list('a')).toHaveLength(1);
    expect(store.remove({ namespace: 'a', name: 'x' })).toBeUndefined();
  });

  test('freezes stored objects so a controller cannot corrupt the shared copy', () => {
    const store = new Store();
    store.upsert(obj('a', 'x', { app: 'web' }));
    const got = store.get({ namespace: 'a', name: 'x' })!;
    expect(() => {
      got.metadata!.labels!.app = 'changed';
    }).toThrow(TypeError);
  });

  test('filters by label selector', () => {
    const store = new Store();
    store.upsert(obj('a', 'x', { app: 'web', tier: 'front' }));
    store.upsert(obj('a', 'y', { app: 'db' }));
    expect(store.list('a', { app: 'web' }).map((o) => o.metadata?.name)).toEqual(['x']);
    expect(store.list('a', 'app in (web, db),!tier').map((o) => o.metadata?.name)).toEqual(['y']);
  });
});

describe('compileSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=web,tier=back', false],
    ['tier', true],
    ['!tier', false],
    ['missing!=x', true],
    ['app in (db, web)', true],
    ['app notin (db, web)', false],
    ['missing notin (x)', true],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(compileSelector(selector)(labels)).toBe(expected);
  });

  test('rejects what it cannot parse', () => {
    expect(() => compileSelector('a > 1')).toThrow(/unsupported/);
  });
});
