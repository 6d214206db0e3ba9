// The bed's data plane, part 3: faults on demand (contract C2). The serving process's MODELOPS_FAULT_* env
// vars reach it through the pod like any env, and what they do shows in PromQL as the canary analysis sees it.
import { objectApi, useNamespace } from '../harness/cluster.js';
import { promQuery, waitForKubeProxyEndpoints, waitUntil } from '../harness/dataplane.js';
import { loadReference, referenceRows } from '../harness/inputs.js';
import { runLoad, type LoadReport } from '../harness/load.js';
import {
  FIXTURE_REFERENCE,
  deploymentReady,
  servingDeployment,
  servingService,
  useModelClaim,
} from '../harness/serving.js';

const ns = useNamespace('faults');
useModelClaim(ns, 'models', ['fraud']);
const reference = loadReference(FIXTURE_REFERENCE);
const requests = 300;
let healthy: LoadReport;

// One version per knob, one replica each, each behind its own Service.
const versions: Record<string, Record<string, string>> = {
  healthy: {},
  errors: { MODELOPS_FAULT_ERROR_RATE: '0.5' },
  slow: { MODELOPS_FAULT_LATENCY: '60ms' },
  shifted: { MODELOPS_FAULT_SCORE_SHIFT: '0.4' },
};
const selector = (version: string) => `namespace="${ns.name}", model="fraud", version="${version}"`;

/** The same inputs (seed) for every version, so that only the fault differs. */
async function drive(version: string) {
  return runLoad({
    target: { service: `fraud-${version}`, namespace: ns.name },
    model: 'fraud',
    inputName: reference.input.name,
    rows: referenceRows(reference, { seed: 42 }),
    requests,
    concurrency: 4,
  });
}

/** Resolves once Prometheus has scraped every request the version served. */
async function scraped(version: string): Promise<void> {
  await waitUntil(
    () => promQuery(`sum(modelops_inference_requests_total{${selector(version)}})`),
    (s) => s[0]?.value === requests,
    `${requests} requests of ${version} in Prometheus`,
  );
}

beforeAll(async () => {
  for (const [version, env] of Object.entries(versions)) {
    await objectApi().create(
      servingDeployment({
        namespace: ns.name,
        model: 'fraud',
        version,
        replicas: 1,
        claim: 'models',
        modelPath: 'fraud/model.onnx',
        env,
      }),
    );
    await objectApi().create(servingService(ns.name, `fraud-${version}`, { 'modelops.dev/version': version }));
  }
  for (const version of Object.keys(versions)) {
    await deploymentReady(ns.name, `fraud-${version}`, 1);
    await waitForKubeProxyEndpoints(ns.name, `fraud-${version}`, 1);
  }
  // The baseline every test compares with.
  healthy = await drive('healthy');
  await scraped('healthy');
}, 180_000);

test('MODELOPS_FAULT_ERROR_RATE=0.5 fails about half the requests with 500, as the error rate in PromQL shows', async () => {
  const errors = await drive('errors');
  expect(healthy.byCode).toEqual({ 200: requests });
  expect(errors.byCode[500]! + errors.byCode[200]!).toBe(requests);
  await scraped('errors');
  const errorRatio = async (version: string) => {
    const [sample] = await promQuery(
      `sum(modelops_inference_requests_total{${selector(version)}, code="500"}) or vector(0)`,
    );
    return sample!.value / requests;
  };
  expect(await errorRatio('healthy')).toBe(0);
  const ratio = await errorRatio('errors');
  expect(ratio).toBe(errors.byCode[500]! / requests);
  expect(ratio).toBeGreaterThan(0.35);
  expect(ratio).toBeLessThan(0.65);
}, 120_000);

test('MODELOPS_FAULT_LATENCY=60ms moves the median of the latency histogram above 50 ms', async () => {
  await drive('slow');
  await scraped('slow');
  const median = async (version: string) => {
    const [sample] = await promQuery(
      `histogram_quantile(0.5, sum by (le) (modelops_inference_request_duration_seconds_bucket{${selector(version)}}))`,
    );
    return sample!.value;
  };
  expect(await median('slow')).toBeGreaterThan(0.05);
  expect(await median('healthy')).toBeLessThan(0.05);
}, 120_000);

test('MODELOPS_FAULT_SCORE_SHIFT=0.4 shifts the prediction-score histogram and the predicted classes', async () => {
  const shifted = await drive('shifted');
  await scraped('shifted');
  const mean = async (version: string) => {
    const [sample] = await promQuery(
      `sum(modelops_prediction_score_sum{${selector(version)}}) / sum(modelops_prediction_score_count{${selector(version)}})`,
    );
    return sample!.value;
  };
  const [healthyMean, shiftedMean] = [await mean('healthy'), await mean('shifted')];
  // The same inputs: every score moved up by 0.4, except where it was clamped at 1.
  expect(shiftedMean - healthyMean).toBeGreaterThan(0.25);
  expect(shiftedMean - healthyMean).toBeLessThanOrEqual(0.4 + 1e-6);
  expect(shifted.scoreSum / requests).toBeCloseTo(shiftedMean, 3);
  const fraudShare = async (version: string) => {
    const [sample] = await promQuery(
      `sum(modelops_predictions_total{${selector(version)}, class="fraud"}) / sum(modelops_predictions_total{${selector(version)}})`,
    );
    return sample!.value;
  };
  expect(await fraudShare('shifted')).toBeGreaterThan((await fraudShare('healthy')) + 0.2);
}, 120_000);
