import { Store } from './store.js';
import { byField, byLabel } from './indexes.js';
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
        .list({ namespace: 'a' })
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(store.list()).toHaveLength(4);
    // An object in no namespace (cluster-scoped) is listed under the namespace '', and under no other.
    expect(store.list({ namespace: '' }).map((o) => o.metadata?.name)).toEqual(['cluster-wide']);
    expect(store.remove({ namespace: 'a', name: 'x' })?.metadata?.name).toBe('x');
    expect(store.list({ namespace: 'a' })).toHaveLength(1);
    expect(store.remove({ namespace: 'a', name: 'x' })).toBeUndefined();
  });

  test('clear empties the objects and every index; hasIndex names the declared ones', () => {
    const store = new Store();
    store.addIndex('team', byLabel('team'));
    store.upsert(obj('a', 'x', { team: 'risk' }));
    // The store's own namespace index is not a declared one, under any name a caller could give.
    expect([store.hasIndex('team'), store.hasIndex('model'), store.hasIndex('')]).toEqual([true, false, false]);
    expect(() => store.list({ index: { name: '', value: 'a' } })).toThrow(/no index named/);
    store.clear();
    expect(store.list()).toEqual([]);
    expect(store.get({ namespace: 'a', name: 'x' })).toBeUndefined();
    expect(store.list({ index: { name: 'team', value: 'risk' } })).toEqual([]);
    expect(store.hasIndex('team')).toBe(true);
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
    expect(store.list({ namespace: 'a', labelSelector: { app: 'web' } }).map((o) => o.metadata?.name)).toEqual(['x']);
    expect(
      store.list({ namespace: 'a', labelSelector: 'app in (web, db),!tier' }).map((o) => o.metadata?.name),
    ).toEqual(['y']);
  });

  describe('indexes', () => {
    const version = (ns: string, name: string, model: string | undefined): KubernetesObject => ({
      metadata: { namespace: ns, name },
      spec: model === undefined ? {} : { model },
    });
    const names = (objs: KubernetesObject[]) => objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

    test('lists by an index, within a namespace or across all; objects without a value are not indexed', () => {
      const store = new Store();
      store.addIndex('spec.model', byField('spec.model'));
      store.upsert(version('a', 'fraud-v1', 'fraud'));
      store.upsert(version('a', 'fraud-v2', 'fraud'));
      store.upsert(version('a', 'churn-v1', 'churn'));
      store.upsert(version('b', 'fraud-v1', 'fraud'));
      store.upsert(version('b', 'bare', undefined));
      const fraud = { name: 'spec.model', value: 'fraud' };
      expect(names(store.list({ index: fraud }))).toEqual(['a/fraud-v1', 'a/fraud-v2', 'b/fraud-v1']);
      expect(names(store.list({ namespace: 'a', index: fraud }))).toEqual(['a/fraud-v1', 'a/fraud-v2']);
      expect(store.list({ index: { name: 'spec.model', value: 'undefined' } })).toEqual([]);
    });

    test('follows updates and removals: an object moves between values and leaves the index when deleted', () => {
      const store = new Store();
      store.addIndex('spec.model', byField('spec.model'));
      store.upsert(version('a', 'v', 'fraud'));
      store.upsert(version('a', 'v', 'churn'));
      expect(store.list({ index: { name: 'spec.model', value: 'fraud' } })).toEqual([]);
      expect(names(store.list({ index: { name: 'spec.model', value: 'churn' } }))).toEqual(['a/v']);
      store.remove({ namespace: 'a', name: 'v' });
      expect(store.list({ index: { name: 'spec.model', value: 'churn' } })).toEqual([]);
    });

    test('an object filed twice under one value (a repeated tag) is listed once and leaves the index whole', () => {
      const store = new Store();
      store.addIndex('tags', byField('spec.tags'));
      store.upsert({ metadata: { namespace: 'a', name: 'v' }, spec: { tags: ['gpu', 'gpu', 'eu'] } });
      const tagged = (value: string) => names(store.list({ index: { name: 'tags', value } }));
      expect([tagged('gpu'), tagged('eu')]).toEqual([['a/v'], ['a/v']]);
      store.upsert({ metadata: { namespace: 'a', name: 'v' }, spec: { tags: ['eu'] } });
      expect([tagged('gpu'), tagged('eu')]).toEqual([[], ['a/v']]);
      store.remove({ namespace: 'a', name: 'v' });
      expect([tagged('gpu'), tagged('eu')]).toEqual([[], []]);
    });

    test('a value no object is filed under any more leaves the index: churn does not grow the store', () => {
      const store = new Store();
      store.addIndex('run', byLabel('run'));
      for (let i = 0; i < 5; i++) {
        store.upsert(obj('a', 'pod', { run: `run-${i}` })); // each replaces the last, under a new value
        store.upsert(obj(`ns-${i}`, 'pod'));
        store.remove({ namespace: `ns-${i}`, name: 'pod' });
      }
      // The indexes are private: read their sizes (values held) the way a heap snapshot would.
      const indices = (store as unknown as { indices: Map<string, Map<string, Set<string>>> }).indices;
      expect([...indices.values()].map((index) => [...index.keys()])).toEqual([['a'], ['run-4']]);
    });

    test('an index declared after objects are stored indexes them at once; label indexes; unknown index names fail', () => {
      const store = new Store();
      store.upsert(obj('a', 'x', { 'modelops.dev/model': 'fraud' }));
      store.upsert(obj('a', 'y'));
      store.addIndex('model', byLabel('modelops.dev/model'));
      expect(names(store.list({ index: { name: 'model', value: 'fraud' } }))).toEqual(['a/x']);
      expect(() => store.list({ index: { name: 'nope', value: 'x' } })).toThrow(/no index named nope/);
      expect(() => store.addIndex('model', byLabel('other'))).toThrow(/already exists/);
    });

    test('byField files arrays under each element and is memoized, so controllers can share an index', () => {
      expect(byField('spec.tags')({ spec: { tags: ['a', 'b', { no: 1 }] } })).toEqual(['a', 'b']);
      expect(byField('spec.replicas')({ spec: { replicas: 3 } })).toEqual(['3']);
      expect(byField('spec.model')).toBe(byField('spec.model'));
      expect(byLabel('x')).toBe(byLabel('x'));
    });

    test('byField: strings, numbers and booleans; nothing for an absent or null step, or an object', () => {
      expect(byField('spec.enabled')({ spec: { enabled: false } })).toEqual(['false']);
      expect(byField('spec.model')({ spec: { model: 'fraud' } })).toEqual(['fraud']);
      expect(byField('spec.model')({ metadata: { name: 'x' } })).toEqual([]);
      expect(byField('spec.model')({ spec: null } as never)).toEqual([]);
      expect(byField('spec.model')({ spec: { model: { name: 'fraud' } } })).toEqual([]);
      expect(byField('spec.model.length')({ spec: { model: 'fraud' } })).toEqual([]); // a path steps into objects only
      expect(byField('spec.other')).not.toBe(byField('spec.model'));
    });

    test('byLabel: the label value; nothing without the label, labels or metadata', () => {
      const team = byLabel('team');
      expect(team({ metadata: { labels: { team: 'risk', app: 'x' } } })).toEqual(['risk']);
      expect(team({ metadata: { labels: { team: '', app: 'x' } } })).toEqual(['']);
      // Nothing, not a value `undefined` (toStrictEqual: toEqual would take [undefined] for []).
      expect(team({ metadata: { labels: { app: 'x' } } })).toStrictEqual([]);
      expect(team({ metadata: { name: 'x' } })).toStrictEqual([]);
      expect(team({})).toStrictEqual([]);
      expect(byLabel('app')).not.toBe(team);
    });
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
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app  in  (db,web)', true],
    ['app notin (db, web)', false],
    ['app notin (db)', true],
    ['missing notin (x)', true],
    [' app = web , tier ', true],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(compileSelector(selector)(labels)).toBe(expected);
  });

  test.each(['a > 1', '!app=web', 'app=web tier', 'tier app in (web)', 'app in (web) tier'])(
    'rejects what it cannot parse: %s',
    (selector) => {
      expect(() => compileSelector(selector)).toThrow(/unsupported label selector requirement/);
    },
  );
});
