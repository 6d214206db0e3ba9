import { satisfies } from './apply.js';

test.each([
  ['the same object', { a: 1, b: 'x' }, { a: 1, b: 'x' }, true],
  ['server defaults added', { a: 1, b: 'x', c: true, status: {} }, { a: 1, b: 'x' }, true],
  ['a value changed', { a: 2 }, { a: 1 }, false],
  ['a field missing', {}, { a: 1 }, false],
  ['nested, defaults inside list items', { l: [{ n: 'x', d: 1 }, { n: 'y' }] }, { l: [{ n: 'x' }, { n: 'y' }] }, true],
  ['a list item more', { l: [{ n: 'x' }, { n: 'y' }] }, { l: [{ n: 'x' }] }, false],
  ['a list item less', { l: [{ n: 'x' }] }, { l: [{ n: 'x' }, { n: 'y' }] }, false],
  ['list order matters', { l: ['b', 'a'] }, { l: ['a', 'b'] }, false],
  ['nothing there', undefined, { a: 1 }, false],
  ['a string for a number', { a: '1' }, { a: 1 }, false],
  ['an undefined desired field is no constraint', { a: 1 }, { a: 1, b: undefined }, true],
  [
    'a selector with a key more selects less: not satisfied',
    { spec: { selector: { model: 'm', version: 'v1' }, type: 'ClusterIP' } },
    { spec: { selector: { model: 'm' } } },
    false,
  ],
  [
    'the same selector',
    { spec: { selector: { model: 'm' }, type: 'ClusterIP' } },
    { spec: { selector: { model: 'm' } } },
    true,
  ],
])('%s', (_case, observed, desired, expected) => {
  expect(satisfies(observed, desired)).toBe(expected);
});
