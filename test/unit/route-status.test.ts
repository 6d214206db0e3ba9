// The status the bed's imitation gateway writes on HTTPRoutes attached to its Gateway.
import { CONTROLLER_NAME, desiredParents, type Route } from '../bed/dataplane/route-status.js';

const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateway', name: 'testbed' };
const route = (backends: string[], status?: Route['status']): Route => ({
  metadata: { namespace: 'ml', name: 'fraud', generation: 3 },
  spec: { parentRefs: [parentRef], rules: [{ backendRefs: backends.map((name) => ({ name, port: 80 })) }] },
  status,
});
const exists = (names: string[]) => (name: string) => names.includes(name);

test('an attached route whose Services exist is Accepted with ResolvedRefs at its generation', () => {
  const parents = desiredParents(route(['stable', 'canary']), exists(['stable', 'canary']), 'T1');
  expect(parents).toEqual([
    {
      parentRef,
      controllerName: CONTROLLER_NAME,
      conditions: [
        expect.objectContaining({ type: 'Accepted', status: 'True', observedGeneration: 3, lastTransitionTime: 'T1' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }),
      ],
    },
  ]);
  // Written once: the same facts later change nothing.
  expect(desiredParents(route(['stable', 'canary'], { parents }), exists(['stable', 'canary']), 'T2')).toBeUndefined();
});

test('a missing backend Service is ResolvedRefs False, BackendNotFound; the transition time moves only on change', () => {
  const first = desiredParents(route(['stable', 'canary']), exists(['stable']), 'T1')!;
  expect(first[0]!.conditions[1]).toMatchObject({
    status: 'False',
    reason: 'BackendNotFound',
    message: 'Service "canary" not found',
  });
  const fixed = desiredParents(route(['stable', 'canary'], { parents: first }), exists(['stable', 'canary']), 'T2')!;
  expect(fixed[0]!.conditions.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
    ['Accepted', 'True', 'T1'],
    ['ResolvedRefs', 'True', 'T2'],
  ]);
});

test("other gateways' entries stay; routes attached elsewhere get none of ours", () => {
  const theirs = { parentRef: { name: 'other' }, controllerName: 'example.com/gw', conditions: [] };
  const attachedElsewhere: Route = {
    ...route([]),
    spec: { parentRefs: [{ name: 'other' }] },
    status: { parents: [theirs] },
  };
  expect(desiredParents(attachedElsewhere, exists([]), 'T')).toBeUndefined();
  const both = route(['stable'], { parents: [theirs] });
  expect(desiredParents(both, exists(['stable']), 'T')!.map((p) => p.controllerName)).toEqual([
    'example.com/gw',
    CONTROLLER_NAME,
  ]);
});
