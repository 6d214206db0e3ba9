// Breach → stable: how long after a canary's breach is visible in Prometheus all traffic is back on the
// stable version, over N rollbacks on the test bed with its data plane (real serving processes, kube-proxy,
// Prometheus scraping every second), beside the worst case the documented default examples of Argo
// Rollouts and Flagger allow. Prints figures; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)" && node --import tsx bench/operator/rollback.ts
// ROUNDS (default 10), INTERVAL (analysis interval, s, default 5).
import { Watch, type V1Service } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { modelVersionController } from '../../operator/src/controllers/modelversion/controller.js';
import { HttpPrometheusClient } from '../../operator/src/prometheus/index.js';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { kubeConfig, kubectl, objectApi, waitFor } from '../../test/harness/cluster.js';
import { prometheusUrl } from '../../test/harness/dataplane.js';
import { FIXTURE_REFERENCE, createModelClaim, deleteModelClaim } from '../../test/harness/serving.js';
import { loadReference, referenceRows } from '../../test/harness/inputs.js';
import { startLoad } from '../../test/harness/load.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const INTERVAL = Number(process.env.INTERVAL ?? 5);
const WINDOW = 10;
const MIN_SAMPLES = 30;
const ns = `bench-rollback-${Date.now().toString(36)}`;
const model = 'fraud';

const versions = Array.from({ length: ROUNDS + 1 }, (_v, i) => `v${i + 1}`);
await objectApi().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
await waitFor(
  `/api/v1/namespaces/${ns}/serviceaccounts`,
  (sa: { metadata?: { name?: string } }) => sa.metadata?.name === 'default',
  'default ServiceAccount',
);
await createModelClaim(
  ns,
  'models',
  versions.map((v) => `${model}/${v}`),
);

const manager = new Manager({
  kubeConfig: kubeConfig(),
  logger: createLogger({ level: 'warn' }),
  metricsPort: 0,
  healthPort: 0,
  namespaces: [ns],
});
manager.addController(
  modelVersionController({ prometheusUrl: prometheusUrl(), servingImage: 'ghcr.io/modelops/serving:bench' }),
);
await manager.start();

const manifest = (version: string, env: Record<string, string> = {}) => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name: `${model}-${version}`, namespace: ns },
  spec: {
    model,
    version,
    artifact: { uri: `pvc://models/${model}/${version}/model.onnx` },
    reference: { uri: `pvc://models/${model}/${version}/reference.json` },
    serving: {
      replicas: 2,
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
      rollout: {
        steps: [{ weight: 50, pauseSeconds: 3600 }, { weight: 100 }],
        analysis: { intervalSeconds: INTERVAL, windowSeconds: WINDOW, failureLimit: 1, minSamples: MIN_SAMPLES },
      },
    },
  },
});
const apply = async (obj: object) => {
  const r = await kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], dump(obj));
  if (r.code !== 0) throw new Error(r.stderr);
};

/** Every change of the model Service's selector, timed as the watch delivers it. */
const selectors: { time: number; version?: string }[] = [];
const watch = await new Watch(kubeConfig()).watch(
  `/api/v1/namespaces/${ns}/services`,
  { fieldSelector: `metadata.name=${model}` },
  (_phase, svc: V1Service) =>
    selectors.push({ time: Date.now(), version: svc.spec?.selector?.['modelops.dev/modelversion'] }),
  () => undefined,
);

await apply(manifest('v1'));
await waitFor(
  `/apis/modelops.dev/v1alpha1/namespaces/${ns}/modelversions`,
  (mv: { status?: { phase?: string } }) => mv.status?.phase === 'Serving',
  'v1 serving',
  { fieldSelector: `metadata.name=${model}-v1`, timeoutMs: 120_000 },
);
const reference = loadReference(FIXTURE_REFERENCE);
const load = startLoad({
  target: { service: model, namespace: ns },
  model,
  rows: referenceRows(reference),
  inputName: reference.input.name,
  ratePerSecond: 40,
  concurrency: 8,
});

const prometheus = new HttpPrometheusClient({ url: prometheusUrl() });
const times: number[] = [];
for (const version of versions.slice(1)) {
  const start = Date.now();
  await apply(manifest(version, { MODELOPS_FAULT_ERROR_RATE: '0.5' }));
  await waitFor(
    `/apis/modelops.dev/v1alpha1/namespaces/${ns}/modelversions`,
    (mv: { status?: { phase?: string } }) => mv.status?.phase === 'RolledBack',
    `${version} rolled back`,
    { fieldSelector: `metadata.name=${model}-${version}`, timeoutMs: 180_000 },
  );
  // The status is written before the Service (decisions first): the selector's change may come a moment later.
  const backOnStable = () => {
    const routed = selectors.findIndex((s) => s.time >= start && s.version === undefined);
    return routed < 0 ? undefined : selectors.find((s, i) => i > routed && s.version === `${model}-v1`);
  };
  for (let waited = 0; !backOnStable() && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const back = backOnStable();
  if (!back) throw new Error(`${version}: the model Service never went back to the stable`);
  const sel = `namespace="${ns}",model="${model}",version="${version}"`;
  const w = `[${WINDOW}s]`;
  const breach = `(sum(increase(modelops_inference_requests_total{${sel},code=~"5.."}${w})) / sum(increase(modelops_inference_requests_total{${sel}}${w})) > bool 0.01) * (sum(increase(modelops_inference_requests_total{${sel}}${w})) >= bool ${MIN_SAMPLES})`;
  const series = await prometheus.queryRange(breach, {
    start: new Date(start),
    end: new Date(back.time),
    stepSeconds: 0.1,
  });
  const visible = series[0]?.points.find((p) => p.value === 1)?.time.getTime();
  if (visible === undefined) throw new Error(`${version}: no breach seen in Prometheus`);
  times.push((back.time - visible) / 1000);
  console.log(`  ${version}: breach visible → traffic on stable ${((back.time - visible) / 1000).toFixed(2)} s`);
}
await load.stop();
watch.abort();
await manager.stop();
await kubectl(['delete', 'namespace', ns, '--wait=false']);
await deleteModelClaim(ns, 'models');

times.sort((a, b) => a - b);
const p50 = times[Math.floor((times.length - 1) / 2)]!;
const max = times.at(-1)!;
console.log(
  `\nbreach visible in Prometheus → all traffic on stable, ${times.length} rollbacks (interval ${INTERVAL} s, failureLimit 1, window ${WINDOW} s, scrape 1 s)`,
);
console.log(
  `  modelops     p50 ${p50.toFixed(2)} s   max ${max.toFixed(2)} s   (worst case by its formula: interval × failureLimit + window = ${INTERVAL + WINDOW} s)`,
);
// The documented examples, read from the projects' own docs (the formula is the one modelops puts in
// status.worstCaseDetectionSeconds: measurements needed to fail × interval + the query's window):
// - Argo Rollouts, docs/features/analysis.md "Background Analysis" (argoproj/argo-rollouts): AnalysisTemplate
//   success-rate, interval 5m, failureLimit 3, irate(...[5m]). The run fails when failed > failureLimit
//   (analysis/analysis.go, assessMetricFailureInconclusiveOrError): the 4th failed measurement.
// - Flagger, docs/gitbook/usage/how-it-works.md "Canary resource" (fluxcd/flagger): analysis interval 1m,
//   threshold 10, request-success-rate interval 1m; deployment-strategies.md gives the rollback time as
//   interval × threshold.
const compared = [
  ['Argo Rollouts', 'interval 5m, failureLimit 3 → fails on the 4th measurement, query window [5m]', 4 * 300 + 300],
  ['Flagger', 'interval 1m, threshold 10 (docs: rollback after interval × threshold), metric window 1m', 10 * 60 + 60],
  ['modelops', 'defaults: interval 30 s, failureLimit 2, window 60 s', 2 * 30 + 60],
] as const;
console.log('worst-case detection of the documented default examples (measurements to fail × interval + window):');
for (const [who, how, seconds] of compared)
  console.log(`  ${who.padEnd(14)} ${String(seconds).padStart(5)} s   ${how}`);
process.exit(0);
