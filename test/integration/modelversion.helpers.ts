// What the ModelVersion integration tests share: a stand-in Prometheus HTTP API whose answers the test
// scripts, the claim the artifacts are on, and the deletion of a model's last version.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubectl, objectApi, waitForGone } from '../harness/cluster.js';
import { repoRoot } from '../harness/paths.js';
import { createBoundClaim, createModelClaim, deleteModelClaim } from '../harness/serving.js';

/** Answers the analysis's queries: every version healthy unless `errorRate` says otherwise. */
export class StandInPrometheus {
  errorRate: Record<string, number> = {};
  private server?: Server;
  url = '';
  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const query = new URLSearchParams(body).get('query') ?? '';
        const versions = /version=~"([^"]*)"/.exec(query)?.[1]?.split('|') ?? [];
        const value = (v: string) =>
          query.includes('code=~"5.."')
            ? 200 * (this.errorRate[v] ?? 0)
            : query.startsWith('histogram_quantile')
              ? 0.004
              : 200;
        const result = query.includes('modelops_prediction_score')
          ? []
          : versions.map((v) => ({ metric: { version: v }, value: [Date.now() / 1000, String(value(v))] }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/**
 * pvc://models in `namespace`, bound. With the bed's data plane the serving pods run for real, so the claim's
 * directory gets the fixture model and reference under each of `dirs`; without it the pods are simulated and
 * a statically bound volume, as a cluster admin would provide one, is enough.
 */
export async function createModelsClaim(namespace: string, dirs: string[]): Promise<void> {
  if (process.env.MODELOPS_TESTBED_VOLUMES) return createModelClaim(namespace, 'models', dirs);
  await createBoundClaim(namespace, 'models', { path: '/srv/models', accessMode: 'ReadOnlyMany' });
}

export const deleteModelsClaim = (namespace: string) => deleteModelClaim(namespace, 'models');

/** The Gateway API CRDs, installed from the bed's build cache when the bed has none (the data plane installs them). */
export async function ensureGatewayApi(): Promise<void> {
  if ((await kubectl(['get', 'crd', 'httproutes.gateway.networking.k8s.io'])).code === 0) return;
  const dir = `${process.env.MODELOPS_CACHE ?? `${repoRoot}/.cache/testbed`}/gateway-api-1.6.3/crd/standard`;
  const installed = await kubectl(['apply', '--server-side', '-f', dir]);
  if (installed.code !== 0) throw new Error(installed.stderr);
  await kubectl(['wait', '--for=condition=Established', 'crd/httproutes.gateway.networking.k8s.io']);
}

/** Deletes a model's last version and waits until the operator has removed the model's Service. */
export async function deleteLastVersion(namespace: string, version: string, model: string, timeoutMs: number) {
  await objectApi().delete({
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: version, namespace },
  });
  await waitForGone(`/api/v1/namespaces/${namespace}/services`, 'the model Service', {
    fieldSelector: `metadata.name=${model}`,
    timeoutMs,
  });
}
