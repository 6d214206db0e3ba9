// The Manager's HTTP endpoints and lifecycle against a local stand-in API server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import pino from 'pino';
import { Manager } from './manager.js';
import type { ResourceRef } from './types.js';

const WIDGETS: ResourceRef = {
  group: 'example.dev',
  version: 'v1',
  plural: 'widgets',
  kind: 'Widget',
  namespaced: true,
};

let server: http.Server;
let releaseList: () => void = () => {};
const listReleased = new Promise<void>((r) => (releaseList = r));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.searchParams.get('watch') === 'true')
      return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders(); // idle watch
    void listReleased.then(() =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] })),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('healthz at once, readyz once caches sync, metrics from its own registry; stop closes the endpoints', async () => {
  const kubeConfig = localKubeConfig((server.address() as AddressInfo).port, 't');
  const manager = new Manager({ kubeConfig, logger: pino({ level: 'silent' }), metricsPort: 0, healthPort: 0 });
  manager.addController({ name: 'widget', for: WIDGETS, workers: 3, reconcile: async () => {} });
  const started = manager.start();
  // start() binds the ports before it waits for the caches
  while (manager.ports.health === undefined) await new Promise((r) => setImmediate(r));
  const get = async (port: number | undefined, path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };

  expect((await get(manager.ports.health, '/healthz')).status).toBe(200);
  expect((await get(manager.ports.health, '/readyz')).status).toBe(503);
  releaseList();
  await started;
  expect((await get(manager.ports.health, '/readyz')).status).toBe(200);
  const metrics = await get(manager.ports.metrics, '/metrics');
  expect(metrics.body).toContain('controller_runtime_max_concurrent_reconciles{controller="widget"} 3');
  expect(metrics.body).toContain('controller_runtime_reconcile_total{controller="widget",result="success"} 0');
  expect(metrics.body).toContain('rest_client_requests_total{method="GET",code="200"}');
  expect(() => manager.addController({ name: 'late', for: WIDGETS, reconcile: async () => {} })).toThrow(
    /before start/,
  );

  const { metrics: metricsPort } = manager.ports;
  await manager.stop();
  await manager.stop(); // idempotent
  await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
});

test('a watched resource is cached with one label selector: controllers asking for different ones are refused', () => {
  const manager = new Manager({ kubeConfig: localKubeConfig(1), logger: pino({ level: 'silent' }) });
  const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
  manager.addController({
    name: 'a',
    for: WIDGETS,
    watches: [{ resource: PODS, map: () => [], labelSelector: 'app=a' }],
    reconcile: async () => {},
  });
  manager.addController({
    name: 'b',
    for: WIDGETS,
    watches: [{ resource: PODS, map: () => [], labelSelector: 'app=a' }],
    reconcile: async () => {},
  });
  expect(() =>
    manager.addController({
      name: 'c',
      for: WIDGETS,
      watches: [{ resource: PODS, map: () => [] }],
      reconcile: async () => {},
    }),
  ).toThrow('/v1/pods is already cached with labelSelector "app=a"; every controller must ask for the same one');
});
