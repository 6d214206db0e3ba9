// The load driver's imitation of a gateway: HTTPRoute matching with the spec's precedence, weighted backends.
import { pickBackend, routeRequest, type HttpRoute } from '../harness/gateway.js';
import { mulberry32, referenceRows, type Reference } from '../harness/inputs.js';

const infer = { method: 'POST', path: '/v2/models/fraud/infer', headers: {} };
const stable = { name: 'fraud-stable', port: 80 };
const canary = { name: 'fraud-canary', port: 80 };

function split(route: HttpRoute, request = infer, n = 10_000): Record<string, number> {
  const random = mulberry32(3);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const decision = routeRequest(route, request, random);
    const key = 'backend' in decision ? decision.backend.name : String(decision.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

test('backendRefs weights 80/20 split the requests 80/20', () => {
  const counts = split({
    spec: {
      rules: [
        {
          backendRefs: [
            { ...stable, weight: 80 },
            { ...canary, weight: 20 },
          ],
        },
      ],
    },
  });
  expect(counts['fraud-stable']! / 10_000).toBeCloseTo(0.8, 1);
  expect(counts['fraud-canary']! / 10_000).toBeCloseTo(0.2, 1);
});

test('weight 0 takes nothing; no weight left answers 500; weight defaults to 1', () => {
  const random = mulberry32(1);
  expect(split({ spec: { rules: [{ backendRefs: [{ ...stable, weight: 0 }, canary] }] } })).toEqual({
    'fraud-canary': 10_000,
  });
  expect(pickBackend([{ ...stable, weight: 0 }], random)).toEqual({
    status: 500,
    reason: 'the rule has no backend with a weight above 0',
  });
  expect(pickBackend([], random)).toMatchObject({ status: 500 });
});

test('a header match wins over a rule without one; header names are case-insensitive', () => {
  const route: HttpRoute = {
    spec: {
      rules: [
        { backendRefs: [stable] },
        { matches: [{ headers: [{ name: 'X-Canary', value: 'always' }] }], backendRefs: [canary] },
      ],
    },
  };
  expect(split(route, { ...infer, headers: { 'x-canary': 'always' } }, 100)).toEqual({ 'fraud-canary': 100 });
  expect(split(route, { ...infer, headers: { 'x-canary': 'no' } }, 100)).toEqual({ 'fraud-stable': 100 });
});

test('precedence: an exact path over the longest prefix over a shorter one; no match is 404', () => {
  const route: HttpRoute = {
    spec: {
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'short' }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/v2/models/fraud/' } }], backendRefs: [{ name: 'long' }] },
        { matches: [{ path: { type: 'Exact', value: '/v2/models/fraud/ready' } }], backendRefs: [{ name: 'exact' }] },
      ],
    },
  };
  const at = (path: string) => routeRequest(route, { ...infer, path }, Math.random);
  expect(at('/v2/models/fraud/infer')).toEqual({ backend: { name: 'long' } });
  expect(at('/v2/models/fraud/ready')).toEqual({ backend: { name: 'exact' } });
  expect(at('/v2/health/ready')).toEqual({ backend: { name: 'short' } });
  // A prefix matches whole path segments only.
  expect(at('/v2x')).toEqual({ status: 404, reason: 'no rule of the route matches' });
});

test('reference rows follow the binned distribution; a shift moves the chosen features by N standard deviations', () => {
  const reference: Reference = {
    input: { name: 'features', datatype: 'FP32' },
    features: [
      { name: 'a', binEdges: [0, 1, 2], counts: [3, 1], std: 0.5 },
      { name: 'b', binEdges: [10, 20], counts: [1], std: 2 },
    ],
  };
  const rows = Array.from({ length: 4000 }, referenceRows(reference, { seed: 5 }));
  expect(rows.filter(([a]) => a! < 1).length / rows.length).toBeCloseTo(0.75, 1);
  expect(rows.every(([, b]) => b! >= 10 && b! <= 20)).toBe(true);
  const shifted = Array.from({ length: 4000 }, referenceRows(reference, { seed: 5, shift: { b: 3 } }));
  expect(shifted.map(([, b]) => b! - 6)).toEqual(rows.map(([, b]) => b));
  expect(() => referenceRows(reference, { shift: { c: 1 } })).toThrow('no such feature in the reference: c');
});
