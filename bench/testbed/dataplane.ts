// Figures of the test bed's data plane; not a test. On a bed that is up with its data plane:
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)" && node --import tsx bench/testbed/dataplane.ts
// Prints: per-pod start (spawn → ready), Deployment create → all Ready, pod Ready → kube-proxy routing and
// → Prometheus target up and first sample, and the splits users get through kube-proxy and an HTTPRoute.
import { randomBytes } from 'node:crypto';
import { objectApi, waitFor } from '../../test/harness/cluster.js';
import {
  promQuery,
  promTargets,
  servingProcesses,
  waitForKubeProxyEndpoints,
  waitUntil,
} from '../../test/harness/dataplane.js';
import { loadReference, referenceRows } from '../../test/harness/inputs.js';
import { percentages, runLoad, type LoadTarget } from '../../test/harness/load.js';
import {
  FIXTURE_REFERENCE,
  createModelClaim,
  deleteModelClaim,
  deploymentReady,
  httpRoute,
  servingDeployment,
  servingService,
} from '../../test/harness/serving.js';

const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const namespace = `bench-${randomBytes(3).toString('hex')}`;
const reference = loadReference(FIXTURE_REFERENCE);
const api = objectApi();
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await waitFor(`/api/v1/namespaces/${namespace}/serviceaccounts`, (sa) => sa.metadata?.name === 'default', 'SA');
  await createModelClaim(namespace, 'models', ['v1', 'v2']);
  const deployment = (version: string, replicas: number) =>
    servingDeployment({
      namespace,
      model: 'fraud',
      version,
      replicas,
      claim: 'models',
      modelPath: `${version}/model.onnx`,
    });
  await api.create(servingService(namespace, 'fraud', { 'modelops.dev/model': 'fraud' }));
  await api.create(servingService(namespace, 'fraud-stable', { 'modelops.dev/version': 'v1' }));
  await api.create(servingService(namespace, 'fraud-canary', { 'modelops.dev/version': 'v2' }));

  const created = performance.now();
  await api.create(deployment('v1', 4));
  await deploymentReady(namespace, 'fraud-v1', 4);
  const ready = performance.now();
  await waitForKubeProxyEndpoints(namespace, 'fraud-stable', 4);
  const routed = performance.now();
  await waitUntil(
    async () => (await promTargets()).filter((t) => t.labels.namespace === namespace && t.health === 'up'),
    (targets) => targets.length === 4,
    '4 targets up',
  );
  const targetsUp = performance.now();
  await waitUntil(
    () => promQuery(`count(process_start_time_seconds{namespace="${namespace}"})`),
    (s) => s[0]?.value === 4,
    'samples of 4 pods',
  );
  const sampled = performance.now();
  const starts = (await servingProcesses()).filter((p) => p.namespace === namespace).flatMap((p) => p.startMs);
  console.log(`4 serving pods (2 cores shared with the control plane and whatever else runs):`);
  console.log(`  process spawn → ready, per pod:        ${starts.map((ms) => seconds(ms)).join(', ')}`);
  console.log(`  Deployment created → 4 pods Ready:     ${seconds(ready - created)}`);
  console.log(`  → kube-proxy routes to all 4:          +${seconds(routed - ready)}`);
  console.log(`  → Prometheus has 4 targets up:         +${seconds(targetsUp - ready)}`);
  console.log(`  → PromQL sees samples of all 4:        +${seconds(sampled - ready)}`);

  await api.create(deployment('v2', 1));
  await deploymentReady(namespace, 'fraud-v2', 1);
  await waitForKubeProxyEndpoints(namespace, 'fraud', 5);
  await waitForKubeProxyEndpoints(namespace, 'fraud-canary', 1);
  await api.create(httpRoute(namespace, 'fraud', [{ backends: { 'fraud-stable': 80, 'fraud-canary': 20 } }]));
  for (const [what, target] of [
    ['4 + 1 replicas behind one Service (kube-proxy)', { service: 'fraud', namespace }],
    ['HTTPRoute 80/20 (gateway imitation)', { httpRoute: 'fraud', namespace }],
  ] as [string, LoadTarget][]) {
    const start = performance.now();
    const report = await runLoad({
      target,
      model: 'fraud',
      inputName: reference.input.name,
      rows: referenceRows(reference),
      requests: REQUESTS,
      concurrency: 8,
    });
    const elapsed = performance.now() - start;
    const split = Object.entries(percentages(report.byVersion))
      .map(([v, p]) => `${v} ${p.toFixed(1)} %`)
      .join(', ');
    const latency = report.latencyMs.sort((a, b) => a - b);
    console.log(
      `${what}: ${REQUESTS} requests → ${split}; codes ${JSON.stringify(report.byCode)}; ` +
        `${(REQUESTS / (elapsed / 1000)).toFixed(0)} req/s, p50 ${latency[latency.length >> 1]!.toFixed(1)} ms ` +
        `(a new connection per request)`,
    );
  }
}

main()
  .finally(async () => {
    await api.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
    await deleteModelClaim(namespace, 'models');
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
