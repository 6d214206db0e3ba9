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
  ['an undefined desired field allows any value', { a: 1, b: 2 }, { a: 1, b: undefined }, true],
  ['a later list item changed', { l: [{ n: 'x' }, { n: 'y' }] }, { l: [{ n: 'x' }, { n: 'z' }] }, false],
  ['null kept null', { a: null }, { a: null }, true],
  ['null where an object is wanted', { a: null }, { a: { b: 1 } }, false],
  ['a list where an object is wanted', { a: [1] }, { a: { 0: 1 } }, false],
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
