// Discovery against a stand-in API server: which resources it serves now.
import { RestDiscovery } from './discovery.js';
import { RestTransport } from './rest.js';
import { StandInApiServer } from './test-apiserver.test-helpers.js';
import type { ResourceRef } from './types.js';

const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const SERVICES: ResourceRef = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
const ROUTES: ResourceRef = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
  kind: 'HTTPRoute',
  namespaced: true,
};
const CLAIMS: ResourceRef = {
  group: 'resource.k8s.io',
  version: 'v1',
  plural: 'resourceclaimtemplates',
  kind: 'ResourceClaimTemplate',
  namespaced: true,
};

let api: StandInApiServer;
let transport: RestTransport;
let observed: string[];

beforeEach(async () => {
  api = new StandInApiServer();
  observed = [];
  transport = new RestTransport(await api.start(), { observe: (method, code) => observed.push(`${method} ${code}`) });
});

afterEach(async () => {
  transport.close();
  await api.close();
});

test('a resource is served when its group version lists it; a group version not served at all (404) serves nothing', async () => {
  api.serve(PODS);
  api.serve(CONFIGMAPS);
  api.serve(ROUTES);
  const discovery = new RestDiscovery(transport);
  expect(await discovery.isServed(PODS)).toBe(true);
  expect(await discovery.isServed(SERVICES)).toBe(false);
  expect(await discovery.isServed(ROUTES)).toBe(true);
  expect(await discovery.isServed(CLAIMS)).toBe(false);
  expect(api.requests).toEqual([
    'GET /api/v1',
    'GET /api/v1',
    'GET /apis/gateway.networking.k8s.io/v1',
    'GET /apis/resource.k8s.io/v1',
  ]);
  expect(observed).toEqual(['GET 200', 'GET 200', 'GET 200', 'GET 404']);
});

test('a server that cannot answer is an error, not "not served"', async () => {
  await api.close();
  await expect(new RestDiscovery(transport).isServed(PODS)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});
