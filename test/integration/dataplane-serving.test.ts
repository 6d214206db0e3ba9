// The bed's data plane, part 1: serving pods run the serving image for real at their pod IPs, behind a
// Service's ClusterIP (kube-proxy), scraped by the bed's Prometheus through Kubernetes service discovery.
import { execFileSync } from 'node:child_process';
import type { V1Pod } from '@kubernetes/client-node';
import { kubectl, objectApi, useNamespace, waitFor } from '../harness/cluster.js';
import {
  promQuery,
  promTargets,
  servingProcesses,
  waitForKubeProxyEndpoints,
  waitUntil,
  waitForServing,
  type ServingProcess,
} from '../harness/dataplane.js';
import { loadReference, referenceRows } from '../harness/inputs.js';
import { runLoad } from '../harness/load.js';
import {
  FIXTURE_REFERENCE,
  deploymentReady,
  servingDeployment,
  servingService,
  useModelClaim,
} from '../harness/serving.js';

const ns = useNamespace('dataplane');
useModelClaim(ns, 'models', ['fraud/v1']);
const reference = loadReference(FIXTURE_REFERENCE);
const ours = (processes: ServingProcess[]) => processes.filter((p) => p.namespace === ns.name);

async function infer(ip: string, port: number, model = 'fraud'): Promise<{ status: number; body: object }> {
  const rows = referenceRows(reference, { seed: 11 });
  const res = await fetch(`http://${ip}:${port}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 30], datatype: 'FP32', data: rows() }] }),
  });
  return { status: res.status, body: (await res.json()) as object };
}

/** modelops_inference_requests_total summed over codes, read from one process's own /metrics. */
async function requestsServed(process: ServingProcess): Promise<number> {
  const text = await (await fetch(`http://${process.ip}:${process.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('modelops_inference_requests_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

let processes: ServingProcess[] = [];

async function servingPods(): Promise<V1Pod[]> {
  const list = await objectApi().list<V1Pod>(
    'v1',
    'Pod',
    ns.name,
    undefined,
    undefined,
    undefined,
    undefined,
    'modelops.dev/version=v1',
  );
  return list.items;
}

beforeAll(async () => {
  await objectApi().create(servingService(ns.name, 'fraud', { 'modelops.dev/model': 'fraud' }));
  await objectApi().create(
    servingDeployment({
      namespace: ns.name,
      model: 'fraud',
      version: 'v1',
      replicas: 2,
      claim: 'models',
      modelPath: 'fraud/v1/model.onnx',
    }),
  );
  await deploymentReady(ns.name, 'fraud-v1', 2);
  processes = ours(await servingProcesses());
}, 180_000);

test('a serving Deployment of 2 replicas runs 2 processes that answer V2 requests at their pod IPs', async () => {
  const pods = await servingPods();
  expect(processes.map((p) => p.ip).sort()).toEqual(pods.map((p) => p.status!.podIP!).sort());
  expect(processes.every((p) => p.ready && p.port === 8080 && p.pid !== undefined)).toBe(true);
  // Each listens on its own pod IP, a loopback address the bed added.
  const loopback = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  for (const process of processes) {
    expect(loopback).toContain(`${process.ip}/32`);
    const answer = await infer(process.ip, process.port);
    expect(answer).toMatchObject({ status: 200, body: { model_version: 'v1' } });
  }
});

test("the pods' readiness is their process's: Ready once it answers /v2/health/ready", async () => {
  const pods = await servingPods();
  for (const pod of pods) {
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'server', ready: true, restartCount: 0 });
  }
});

test("requests to the Service's ClusterIP reach both processes through kube-proxy", async () => {
  await waitForKubeProxyEndpoints(ns.name, 'fraud', 2);
  const before = await Promise.all(processes.map(requestsServed));
  const report = await runLoad({
    target: { service: 'fraud', namespace: ns.name },
    model: 'fraud',
    inputName: reference.input.name,
    rows: referenceRows(reference),
    requests: 200,
  });
  expect(report.byCode).toEqual({ 200: 200 });
  expect(report.byVersion).toEqual({ v1: 200 });
  const served = (await Promise.all(processes.map(requestsServed))).map((n, i) => n - before[i]!);
  expect(served.reduce((a, b) => a + b, 0)).toBe(200);
  // kube-proxy picks an endpoint at random per connection: each of the two gets a fair share.
  for (const n of served) expect(n).toBeGreaterThan(50);
});

test('Prometheus has both pods as targets, labelled with model, version and role', async () => {
  const targets = await waitUntil(
    async () => (await promTargets()).filter((t) => t.labels.namespace === ns.name),
    (found) => found.length === 2 && found.every((t) => t.health === 'up'),
    'two healthy serving targets',
  );
  expect(targets.map((t) => t.labels.pod).sort()).toEqual(processes.map((p) => p.name).sort());
  for (const target of targets) {
    expect(target.labels).toMatchObject({ job: 'modelops-serving', model: 'fraud', version: 'v1' });
    expect(target.scrapeUrl).toMatch(/^http:\/\/10\.0\.0\.\d+:8080\/metrics$/);
  }
  // The series carry the serving image's own model, version and role (honor_labels keeps them as they are).
  const series = await waitUntil(
    () => promQuery(`count by (pod, model, version, role) (process_start_time_seconds{namespace="${ns.name}"})`),
    (samples) => samples.length === 2,
    'process series of both pods',
  );
  for (const sample of series) expect(sample.metric).toMatchObject({ model: 'fraud', version: 'v1', role: 'stable' });
});

test('modelops_inference_requests_total in Prometheus rises by what the driver sends', async () => {
  const query = `sum(modelops_inference_requests_total{namespace="${ns.name}", model="fraud", version="v1"})`;
  // Settled first: every request so far has been scraped.
  const served = (await Promise.all(processes.map(requestsServed))).reduce((a, b) => a + b, 0);
  await waitUntil(
    () => promQuery(query),
    (s) => s[0]?.value === served,
    `${query} at ${served}`,
  );
  const report = await runLoad({
    target: { service: 'fraud', namespace: ns.name },
    model: 'fraud',
    inputName: reference.input.name,
    rows: referenceRows(reference, { seed: 2 }),
    requests: 150,
    ratePerSecond: 50,
  });
  expect(report.byCode).toEqual({ 200: 150 });
  const after = await waitUntil(
    () => promQuery(query),
    (s) => (s[0]?.value ?? 0) >= served + 150,
    `${query} up by 150`,
  );
  expect(after[0]!.value).toBe(served + 150);
});

test('inputs shifted by 3 standard deviations move the feature histogram that Prometheus holds', async () => {
  // The share of v1's values at or below the reference's median edge (0.0149): about half as trained.
  const below = `sum(modelops_feature_value_bucket{namespace="${ns.name}", feature="v1", le="0.0149"})`;
  const all = `sum(modelops_feature_value_count{namespace="${ns.name}", feature="v1"})`;
  const read = async () => {
    const [[b], [a]] = await Promise.all([promQuery(below), promQuery(all)]);
    return { below: b?.value ?? 0, all: a?.value ?? 0 };
  };
  const send = async (shift: Record<string, number>) => {
    const before = await read();
    await runLoad({
      target: { service: 'fraud', namespace: ns.name },
      model: 'fraud',
      inputName: reference.input.name,
      rows: referenceRows(reference, { shift, seed: 9 }),
      requests: 200,
    });
    const after = await waitUntil(read, (now) => now.all === before.all + 200, '200 more v1 observations');
    return (after.below - before.below) / 200;
  };
  expect(await send({})).toBeGreaterThan(0.4);
  expect(await send({ v1: 3 })).toBeLessThan(0.1);
});

test('scaling the Deployment to 0 stops its processes and removes their addresses', async () => {
  const scaled = await kubectl(['scale', 'deployment/fraud-v1', '-n', ns.name, '--replicas=0']);
  expect(scaled.code).toBe(0);
  await waitForServing((all) => ours(all).length === 0, `no serving process left in ${ns.name}`);
  for (const process of processes) expect(() => globalThis.process.kill(process.pid!, 0)).toThrow(/ESRCH/);
  const loopback = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  for (const process of processes) expect(loopback).not.toContain(`${process.ip}/32`);
  await waitFor<V1Pod>(
    `/apis/apps/v1/namespaces/${ns.name}/deployments`,
    (d) => ((d as { status?: { replicas?: number } }).status?.replicas ?? 0) === 0,
    'fraud-v1 scaled to 0',
    { fieldSelector: 'metadata.name=fraud-v1' },
  );
  // Prometheus drops the targets with the pods.
  await waitUntil(
    async () => (await promTargets()).filter((t) => t.labels.namespace === ns.name),
    (found) => found.length === 0,
    'no serving targets left',
  );
});

test('a serving pod whose Secret is missing waits in CreateContainerConfigError, and serves once it exists', async () => {
  const deployment = servingDeployment({
    namespace: ns.name,
    model: 'secretive',
    version: 'v1',
    replicas: 1,
    claim: 'models',
    modelPath: 'fraud/v1/model.onnx',
  });
  // As C1 passes s3 credentials: envFrom a Secret.
  deployment.spec!.template.spec!.containers[0]!.envFrom = [{ secretRef: { name: 's3-credentials' } }];
  await objectApi().create(deployment);
  const waiting = await waitFor<V1Pod>(
    `/api/v1/namespaces/${ns.name}/pods`,
    (p) => !!p.status?.containerStatuses?.[0]?.state?.waiting,
    'the secretive pod waiting',
    { labelSelector: 'modelops.dev/model=secretive' },
  );
  expect(waiting.status!.containerStatuses![0]!.state!.waiting).toEqual({
    reason: 'CreateContainerConfigError',
    message: 'Secret "s3-credentials" not found',
  });
  expect(ours(await servingProcesses()).filter((p) => p.name === waiting.metadata!.name)).toEqual([]);

  await objectApi().create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's3-credentials', namespace: ns.name },
    stringData: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' },
  } as never);
  await deploymentReady(ns.name, 'secretive-v1', 1);
  const [process] = ours(await servingProcesses()).filter((p) => p.name === waiting.metadata!.name);
  expect(process).toMatchObject({ ready: true, restarts: 0 });
  expect(await infer(process!.ip, process!.port, 'secretive')).toMatchObject({
    status: 200,
    body: { model_name: 'secretive', model_version: 'v1' },
  });
});
