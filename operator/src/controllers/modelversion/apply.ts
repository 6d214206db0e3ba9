// Write only on change: an object the API server holds already "satisfies" what we would apply when
// every field we set has our value. The server adds defaults (imagePullPolicy, a route's backend group,
// probe timings...) and status, and never drops a field we set, so a subset comparison is the test —
// except for selectors, where a key we no longer set still narrows what is selected: those must match
// exactly (server-side apply removes the key we stopped setting).
import { isDeepStrictEqual } from 'node:util';

export function satisfies(observed: unknown, desired: unknown, key?: string): boolean {
  if (desired === undefined) return true;
  if (key === 'selector') return isDeepStrictEqual(observed, desired);
  if (Array.isArray(desired))
    return (
      Array.isArray(observed) &&
      observed.length === desired.length &&
      desired.every((item, i) => satisfies(observed[i], item))
    );
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
    const o = observed as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => satisfies(o[k], v, k));
  }
  return observed === desired;
}
