// Index functions for the common cases: an object filed under a label's value or a field's value.
// Memoized, so two controllers asking for the same index get the very same function and share it.
import type { IndexFunc } from './store.js';

const memo = new Map<string, IndexFunc>();

function memoized(id: string, make: () => IndexFunc): IndexFunc {
  let fn = memo.get(id);
  if (!fn) memo.set(id, (fn = make()));
  return fn;
}

/** Files an object under the value of one of its labels (not at all without it). */
export function byLabel(label: string): IndexFunc {
  return memoized(`label:${label}`, () => (obj) => {
    const value = obj.metadata?.labels?.[label];
    return value === undefined ? [] : [value];
  });
}

/**
 * Files an object under the value at a dotted path, e.g. `spec.model`: a string, number or boolean,
 * or each of an array of them. Anything else (absent, an object) is not indexed.
 */
export function byField(path: string): IndexFunc {
  const steps = path.split('.');
  return memoized(`field:${path}`, () => (obj) => {
    let value: unknown = obj;
    for (const step of steps)
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[step] : undefined;
    const values = Array.isArray(value) ? value : [value];
    return values.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).map(String);
  });
}
