// The ModelVersion controller on the test bed with its real data plane: serving processes for the pods,
// kube-proxy, Prometheus scraping them every second, and the harness's load driver sending requests the
// whole time. A good canary walks every step and is promoted; one that errors, one that is slow and one
// whose predictions shift are rolled back; the split the driver measures matches the status at every step
// for both mechanisms; a rolled-back version stays quarantined until retried; Prometheus going away holds
// the weights. Timings are printed (bench/operator/rollback.ts gives the statistics), never asserted.
import { jest } from '@jest/globals';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Watch, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { Manager, createLogger } from '../../operator/src/runtime/index.js';
import { modelVersionController } from '../../operator/src/controllers/modelversion/controller.js';
import type { ModelVersion, ModelVersionSpec } from '../../operator/src/api/index.js';
import { HttpPrometheusClient, binCounts } from '../../operator/src/prometheus/index.js';
import { psi } from '../../operator/src/statistics/index.js';
import { condition, kubeConfig, kubectl, objectApi, useNamespace, waitFor, waitForGone } from '../harness/cluster.js';
import { TESTBED_GATEWAY, prometheusUrl } from '../harness/dataplane.js';
import { FIXTURE_REFERENCE, useModelClaim } from '../harness/serving.js';
import { loadReference, referenceRows } from '../harness/inputs.js';
import { percentages, startLoad, type LoadRun, type LoadTarget } from '../harness/load.js';
import { deleteLastVersion } from './modelversion.helpers.js';

const ns = useNamespace('mvdp');
// Whole rollouts with real processes on 2 shared cores: every wait below carries its own, telling timeout.
jest.setTimeout(600_000);
const MODELS = ['good', 'routed', 'errors', 'slow', 'shift', 'quarantine', 'blind', 'gone'];
useModelClaim(
  ns,
  'models',
  MODELS.flatMap((m) => [`${m}/v1`, `${m}/v2`]),
);
const reference = loadReference(FIXTURE_REFERENCE);

/** The operator's way to Prometheus, through a TCP relay the tests can cut ("Prometheus stopped"). */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: URL) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}

let relay: Relay;
let manager: Manager;
beforeAll(async () => {
  relay = new Relay(new URL(prometheusUrl()));
  await relay.open();
  manager = new Manager({
    kubeConfig: kubeConfig(),
    logger: createLogger({ level: process.env.MV_TEST_LOG ?? 'warn' }),
    metricsPort: 0,
    healthPort: 0,
    namespaces: [ns.name],
  });
  manager.addController(
    modelVersionController({ prometheusUrl: relay.url, servingImage: 'ghcr.io/modelops/serving:test' }),
  );
  await manager.start();
});
afterAll(async () => {
  // The operator releases its finalizers before it stops, so the namespace can go.
  await kubectl(['delete', 'mv', '--all', '-n', ns.name, '--wait=true', '--timeout=120s']);
  await manager.stop();
  await relay.cut().catch(() => undefined);
});

const mvPath = () => `/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`;
type MV = ModelVersion & { metadata: { name: string } };
const waitForMv = (name: string, predicate: (mv: MV) => boolean, what: string, timeoutMs = 120_000) =>
  waitFor<MV>(mvPath(), predicate, `${name}: ${what}`, { fieldSelector: `metadata.name=${name}`, timeoutMs });
const isTrue = (type: string, reason?: string) => (mv: MV) => {
  const c = condition(mv as never, type);
  return c?.status === 'True' && (reason === undefined || c.reason === reason);
};

/**
 * The analysis of these tests: every 5 s over 10 s, one failure rolls back, 30 requests make a verdict, 60
 * scores a distribution. On 2 cores shared with other beds one process's p99 is often several times
 * another's, and a stable's p99 was seen at 250 ms: the p99 may be 4 × the stable's and 5 s absolute (as a
 * user tunes it to their cluster's noise); the slow canary's test sets its own absolute bound.
 */
const ANALYSIS = {
  intervalSeconds: 5,
  windowSeconds: 10,
  failureLimit: 1,
  minSamples: 30,
  latencyP99: { maxRatioToStable: 4, maxMs: 5000 },
  predictionShift: { minSamples: 60 },
};

function manifest(model: string, version: string, spec: Partial<ModelVersionSpec> = {}): MV {
  return {
    apiVersion: 'modelops.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: `${model}-${version}`, namespace: ns.name },
    spec: {
      model,
      version,
      artifact: { uri: `pvc://models/${model}/${version}/model.onnx` },
      reference: { uri: `pvc://models/${model}/${version}/reference.json` },
      ...spec,
      serving: { replicas: 2, ...spec.serving },
    },
  } as MV;
}

const apply = async (mv: MV) => {
  const result = await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], dump(mv));
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout;
};

/** Loads still running when a test ends (it failed half-way) are stopped, so the next test starts quiet. */
const running = new Set<LoadRun>();
const watches = new Set<{ abort(): void }>();
afterEach(async () => {
  await Promise.all([...running].map((run) => run.stop()));
  running.clear();
  for (const w of watches) w.abort();
  watches.clear();
});

/** Requests to the model the whole time, as its clients would send them. */
function load(target: LoadTarget, model: string, headers?: Record<string, string>): LoadRun {
  const run = startLoad({
    target,
    model,
    rows: referenceRows(reference, { seed: 11 }),
    inputName: reference.input.name,
    ratePerSecond: 40,
    concurrency: 8,
    ...(headers ? { headers } : {}),
  });
  running.add(run);
  return run;
}

/** What the next `n` requests of a running load were answered by, in percent per version. */
async function nextSplit(run: LoadRun, n: number): Promise<Record<string, number>> {
  const before = run.report();
  await run.completed(before.requests + n);
  const after = run.report();
  const counts = Object.fromEntries(
    Object.entries(after.byVersion)
      .map(([v, c]) => [v, c - (before.byVersion[v] ?? 0)] as const)
      .filter(([, c]) => c > 0),
  );
  return percentages(counts);
}

async function serveV1(model: string, spec: Partial<ModelVersionSpec> = {}): Promise<void> {
  await apply(manifest(model, 'v1', spec));
  await waitForMv(`${model}-v1`, isTrue('Ready'), 'Ready');
}

/**
 * How long a measured step holds at least. Measuring takes 150 requests (3.75 s at 40 a second), and a step whose
 * pause ends before the measurement does is not counted: with 4 s CI once missed the 50 % step.
 */
const MEASURED_STEP_PAUSE_SECONDS = 10;

/** The stable walks through the canary's steps; at each, the driver's split against the status's. */
async function walkSteps(model: string, run: LoadRun): Promise<{ step: number; status: number; measured: number }[]> {
  const seen: { step: number; status: number; measured: number }[] = [];
  for (let step = 0; ; step++) {
    const at = await waitForMv(
      `${model}-v2`,
      (mv) =>
        mv.status?.phase === 'Serving' || (mv.status?.rollout?.step === step && !!mv.status.rollout.stepReachedAt),
      `step ${step} reached`,
    );
    if (at.status?.phase === 'Serving') return seen;
    const measured = (await nextSplit(run, 150)).v2 ?? 0;
    const now = await waitForMv(`${model}-v2`, () => true, 'read');
    // The split held for the whole measurement only if the step did not move meanwhile.
    if (now.status?.rollout?.step === step)
      seen.push({ step, status: now.status!.traffic!.actualCanaryWeight!, measured });
  }
}

describe('a good canary', () => {
  test('walks every step by replica ratio, the measured split matching the status at each, and is promoted', async () => {
    await serveV1('good');
    const run = load({ service: 'good', namespace: ns.name }, 'good');
    expect(await nextSplit(run, 50)).toEqual({ v1: 100 });
    // Counted from here: before its Service has endpoints in kube-proxy, a new model refuses connections.
    const served = run.report();
    const steps = [5, 25, 50, 100].map((weight) => ({ weight, pauseSeconds: MEASURED_STEP_PAUSE_SECONDS }));
    await apply(manifest('good', 'v2', { serving: { rollout: { steps, analysis: ANALYSIS } } }));
    const seen = await walkSteps('good', run);
    console.log(`replica ratio, status vs measured canary %: ${JSON.stringify(seen)}`);
    expect(seen.map((s) => s.step)).toEqual(expect.arrayContaining([0, 2, 3]));
    // 150 requests: a binomial share is within 12 points of the truth with overwhelming probability.
    for (const s of seen) expect(Math.abs(s.status - s.measured)).toBeLessThan(12);
    const promoted = await waitForMv('good-v2', isTrue('Promoted', 'AnalysisPassed'), 'Promoted');
    expect(promoted.status).toMatchObject({ role: 'stable', weight: 100, rollout: { previousStable: 'good-v1' } });
    await waitForMv('good-v1', (mv) => mv.status?.phase === 'Retired', 'Retired');
    expect(await nextSplit(run, 60)).toEqual({ v2: 100 });
    const report = await run.stop();
    // Through the whole rollout no request failed in the service; connections refused while kube-proxy
    // catches up with a change are counted and printed, and bounded.
    const sent = report.requests - served.requests;
    const refused = sent - ((report.byCode['200'] ?? 0) - (served.byCode['200'] ?? 0));
    console.log(
      `replica ratio rollout: ${refused} of ${sent} requests not answered 200 (whole run, start included: ${JSON.stringify(report.byCode)})`,
    );
    expect(Object.keys(report.byCode).filter((code) => code !== '200' && !code.startsWith('ECONN'))).toEqual([]);
    expect(refused / sent).toBeLessThan(0.02);
    const wait = await kubectl(['wait', '-n', ns.name, '--for=condition=Promoted', 'mv/good-v2', '--timeout=5s']);
    expect(wait.stdout).toMatch(/condition met/);
  });

  test('by Gateway API weights: the route carries each step, the measured split matches; a header experiment', async () => {
    const traffic = {
      gatewayAPI: { parentRefs: [{ name: TESTBED_GATEWAY.name, namespace: TESTBED_GATEWAY.namespace }] },
    };
    await serveV1('routed', { serving: { traffic } });
    // The status says Ready before the route is written (decisions first): the clients wait for the route.
    await waitFor(`/apis/gateway.networking.k8s.io/v1/namespaces/${ns.name}/httproutes`, () => true, 'the route', {
      fieldSelector: 'metadata.name=routed',
    });
    const run = load({ httpRoute: 'routed', namespace: ns.name }, 'routed');
    // 25 % of 40 requests/s: enough scores in a 10 s window for the prediction-shift check (60) to judge.
    const steps = [25, 60, 100].map((weight) => ({ weight, pauseSeconds: MEASURED_STEP_PAUSE_SECONDS }));
    await apply(manifest('routed', 'v2', { serving: { traffic, rollout: { steps, analysis: ANALYSIS } } }));
    const seen = await walkSteps('routed', run);
    console.log(`Gateway API, status vs measured canary %: ${JSON.stringify(seen)}`);
    expect(seen.map((s) => s.status)).toEqual([25, 60, 100].slice(0, seen.length));
    for (const s of seen) expect(Math.abs(s.status - s.measured)).toBeLessThan(12);
    await waitForMv('routed-v2', isTrue('Promoted'), 'Promoted');
    await run.stop();

    // v3 as an experiment: only requests with the header reach it, for as long as it lasts.
    await apply(
      manifest('routed', 'v3', {
        artifact: { uri: 'pvc://models/routed/v1/model.onnx' },
        serving: { traffic, rollout: { experiment: { header: { name: 'x-model-version', value: 'v3' } } } },
      }),
    );
    await waitForMv(
      'routed-v3',
      (mv) => mv.status?.phase === 'Experiment' && !!mv.status.rollout?.stepReachedAt,
      'in place',
    );
    const tagged = load({ httpRoute: 'routed', namespace: ns.name }, 'routed', { 'x-model-version': 'v3' });
    const plain = load({ httpRoute: 'routed', namespace: ns.name }, 'routed');
    expect(await nextSplit(tagged, 60)).toEqual({ v3: 100 });
    expect(await nextSplit(plain, 60)).toEqual({ v2: 100 });
    await Promise.all([tagged.stop(), plain.stop()]);
  });
});

/** PromQL that is true (1) while the canary breaches as the check sees it, with enough samples. */
const breachQueries: Record<string, (model: string) => string> = {
  errors: (m) => {
    const sel = `namespace="${ns.name}",model="${m}",version="v2"`;
    const window = `[${ANALYSIS.windowSeconds}s]`;
    return `(sum(increase(modelops_inference_requests_total{${sel},code=~"5.."}${window})) / sum(increase(modelops_inference_requests_total{${sel}}${window})) > bool 0.01) * (sum(increase(modelops_inference_requests_total{${sel}}${window})) >= bool ${ANALYSIS.minSamples})`;
  },
  // Either bound of the check: over 100 ms, or over 4 × the stable's p99 in the same window.
  slow: (m) => {
    const sel = (version: string) => `namespace="${ns.name}",model="${m}",version="${version}"`;
    const window = `[${ANALYSIS.windowSeconds}s]`;
    const p99 = (version: string) =>
      `histogram_quantile(0.99, sum(rate(modelops_inference_request_duration_seconds_bucket{${sel(version)}}${window})) by (le))`;
    const over = `clamp_max((${p99('v2')} > bool 0.1) + (${p99('v2')} > bool (4 * ${p99('v1')})), 1)`;
    return `${over} * (sum(increase(modelops_inference_requests_total{${sel('v2')}}${window})) >= bool ${ANALYSIS.minSamples})`;
  },
};

/** Every change of a model Service's selector, timed as the watch delivers it (the moment routing changed). */
async function recordSelectors(model: string) {
  const changes: { time: Date; version?: string }[] = [];
  const request = await new Watch(kubeConfig()).watch(
    `/api/v1/namespaces/${ns.name}/services`,
    { fieldSelector: `metadata.name=${model}` },
    (_phase: string, svc: V1Service) => {
      const version = svc.spec?.selector?.['modelops.dev/modelversion'];
      if (changes.at(-1)?.version !== version || !changes.length) changes.push({ time: new Date(), version });
    },
    () => undefined,
  );
  watches.add(request);
  return { changes, stop: () => request.abort() };
}

/**
 * Steps fine enough to see a breach the operator acted on within tens of milliseconds of the scrape that showed
 * it: at 0.25 s no step need fall between the two, and a slow canary rolled back in CI looked never visible.
 * Prometheus answers at most 11 000 points.
 */
const visibilityStep = (from: Date, to: Date) => Math.max(0.02, (to.getTime() - from.getTime()) / 1000 / 10_000);

/** The first moment the canary's prediction scores were as far from the stable's as the check says (PSI). */
async function shiftVisibleAt(model: string, from: Date, to: Date, max: number, minSamples: number) {
  const sel = `namespace="${ns.name}",model="${model}",version=~"v1|v2"`;
  const expr = `sum by (version, le) (increase(modelops_prediction_score_bucket{${sel}}[${ANALYSIS.windowSeconds}s]))`;
  const series = await new HttpPrometheusClient({ url: prometheusUrl() }).queryRange(expr, {
    start: from,
    end: to,
    stepSeconds: visibilityStep(from, to),
  });
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.time.getTime())))].sort((a, b) => a - b);
  for (const t of times) {
    const at = (version: string) =>
      binCounts(
        series
          .filter((s) => s.labels.version === version)
          .flatMap((s) =>
            s.points.filter((p) => p.time.getTime() === t).map((p) => ({ labels: s.labels, value: p.value })),
          ),
      );
    const canary = at('v2');
    const stable = at('v1');
    if (Math.min(canary.total, stable.total) < minSamples || canary.counts.length !== stable.counts.length) continue;
    if (psi(stable.counts, canary.counts) > max) return new Date(t);
  }
  return undefined;
}

describe('a bad canary is rolled back', () => {
  const cases = [
    ['errors', { MODELOPS_FAULT_ERROR_RATE: '0.5' }, 'error-rate', {}],
    ['slow', { MODELOPS_FAULT_LATENCY: '250ms' }, 'latency-p99', { latencyP99: { maxRatioToStable: 4, maxMs: 100 } }],
    ['shift', { MODELOPS_FAULT_SCORE_SHIFT: '0.4' }, 'prediction-shift', {}],
  ] as const;
  test.each(cases)(
    '%s: all traffic back on the stable, RolledBack, a Warning naming %s',
    async (model, env, check, extra) => {
      await serveV1(model);
      const run = load({ service: model, namespace: ns.name }, model);
      await nextSplit(run, 40);
      const selectors = await recordSelectors(model);
      const steps = [
        { weight: 50, pauseSeconds: 600 },
        { weight: 100, pauseSeconds: 0 },
      ];
      const start = new Date();
      await apply(
        manifest(model, 'v2', {
          serving: {
            env: Object.entries(env).map(([name, value]) => ({ name, value })),
            rollout: { steps, analysis: { ...ANALYSIS, ...extra } },
          },
        }),
      );
      const rolled = await waitForMv(`${model}-v2`, isTrue('RolledBack', 'AnalysisFailed'), 'RolledBack');
      // The breached check is named (another may have failed in the same analysis).
      expect(condition(rolled as never, 'RolledBack')!.message).toMatch(new RegExp(`(^|; )${check}: `));
      expect(rolled.status).toMatchObject({ phase: 'RolledBack', role: 'none', weight: 0 });
      const failed = rolled.status!.analysis!.checks.find((c) => c.name === check)!;
      expect(failed).toMatchObject({ verdict: 'Fail' });
      expect(failed.value!).toBeGreaterThan(failed.threshold!);
      const event = await waitFor<{ regarding?: { name?: string }; reason?: string; note?: string; type?: string }>(
        `/apis/events.k8s.io/v1/namespaces/${ns.name}/events`,
        (e) => e.regarding?.name === `${model}-v2` && e.reason === 'RolledBack',
        'the RolledBack event',
      );
      expect(event.type).toBe('Warning');
      expect(event.note).toMatch(new RegExp(`(^|; )${check}: .*; all traffic back on v1$`));
      await waitFor<V1Deployment>(
        `/apis/apps/v1/namespaces/${ns.name}/deployments`,
        (d) => d.spec?.replicas === 0,
        'canary at 0 replicas',
        { fieldSelector: `metadata.name=${model}-v2`, timeoutMs: 120_000 },
      );
      // Once the canary's serving processes are gone, nothing can answer but the stable.
      // (after the 30 s drain that lets every proxy catch up with the routing change)
      await waitForGone(`/api/v1/namespaces/${ns.name}/pods`, `${model}-v2's pods`, {
        labelSelector: `modelops.dev/modelversion=${model}-v2`,
        timeoutMs: 120_000,
      });
      expect(await nextSplit(run, 60)).toEqual({ v1: 100 });
      await run.stop();
      selectors.stop();

      // The Service selected every version's pods while the canary was routed, then the stable alone again.
      const routed = selectors.changes.findIndex((c) => c.version === undefined);
      expect(routed).toBeGreaterThanOrEqual(0);
      const back = selectors.changes.slice(routed).find((c) => c.version === `${model}-v1`)!;
      expect(back).toBeDefined();
      const visible =
        model === 'shift'
          ? await shiftVisibleAt(model, start, back.time, 0.25, 60)
          : (
              await new HttpPrometheusClient({ url: prometheusUrl() }).queryRange(breachQueries[model]!(model), {
                start,
                end: back.time,
                stepSeconds: visibilityStep(start, back.time),
              })
            )[0]?.points.find((p) => p.value === 1)?.time;
      expect(visible).toBeDefined();
      const seconds = (back.time.getTime() - visible!.getTime()) / 1000;
      console.log(
        `${model}: breach visible in Prometheus → traffic back on stable ${seconds.toFixed(2)} s (interval 5 s)`,
      );
    },
  );
});

describe('quarantine', () => {
  test('re-applying a rolled-back spec does not restart it; the retry action does, 20 times out of 20', async () => {
    await serveV1('quarantine');
    const bad = manifest('quarantine', 'v2', {
      serving: {
        env: [{ name: 'MODELOPS_FAULT_ERROR_RATE', value: '1' }],
        rollout: { steps: [{ weight: 50 }, { weight: 100 }], analysis: ANALYSIS },
      },
    });
    await apply(bad);
    const run = load({ service: 'quarantine', namespace: ns.name }, 'quarantine');
    await waitForMv('quarantine-v2', isTrue('RolledBack'), 'RolledBack');
    await run.stop();
    // Its pods drain (30 s), then it holds no replicas.
    await waitForMv('quarantine-v2', (mv) => mv.status?.replicas === 0, 'drained');

    expect(await apply(bad)).toMatch(/serverside-applied|unchanged/);
    // A spec change is seen (observedGeneration) and still restarts nothing.
    const changed = manifest('quarantine', 'v2', {
      serving: { ...bad.spec.serving, env: [{ name: 'MODELOPS_FAULT_ERROR_RATE', value: '0.9' }] },
    });
    await apply(changed);
    const seen = await waitForMv(
      'quarantine-v2',
      (mv) => mv.status?.observedGeneration === mv.metadata.generation && mv.metadata.generation! > 1,
      'spec change observed',
    );
    expect(seen.status).toMatchObject({ phase: 'RolledBack', weight: 0, replicas: 0 });

    let retried = 0;
    for (let round = 1; round <= 20; round++) {
      await kubectl(['annotate', '-n', ns.name, 'mv/quarantine-v2', `modelops.dev/retry=r${round}`, '--overwrite']);
      await waitForMv(
        'quarantine-v2',
        (mv) => mv.status?.role === 'canary' && mv.status.handledActions?.retry === `r${round}`,
        `retry ${round}: a canary again`,
      );
      retried++;
      await kubectl([
        'annotate',
        '-n',
        ns.name,
        'mv/quarantine-v2',
        `modelops.dev/abort=round ${round}`,
        '--overwrite',
      ]);
      await waitForMv(
        'quarantine-v2',
        (mv) => mv.status?.phase === 'RolledBack' && mv.status.handledActions?.abort === `round ${round}`,
        `abort ${round}`,
      );
    }
    expect(retried).toBe(20);
  });
});

describe('Prometheus unreachable', () => {
  test('mid-rollout: the weights hold and Degraded says why; back before the limit, the rollout carries on', async () => {
    await serveV1('blind');
    const run = load({ service: 'blind', namespace: ns.name }, 'blind');
    const steps = [
      { weight: 50, pauseSeconds: 1 },
      { weight: 100, pauseSeconds: 1 },
    ];
    await apply(
      manifest('blind', 'v2', {
        serving: {
          rollout: { steps, analysis: { ...ANALYSIS, intervalSeconds: 2, metricsUnavailableRollbackSeconds: 3600 } },
        },
      }),
    );
    await waitForMv('blind-v2', (mv) => !!mv.status?.rollout?.stepReachedAt, 'step 1 reached');
    await relay.cut();
    const degraded = await waitForMv('blind-v2', isTrue('Degraded', 'MetricsUnavailable'), 'Degraded');
    expect(condition(degraded as never, 'Degraded')!.message).toMatch(/unreachable .*ECONNREFUSED/);
    // Two more failed analyses later, still at step 1 with its weight.
    const first = degraded.status!.analysis!.time;
    const later = await waitForMv(
      'blind-v2',
      (mv) => mv.status?.analysis?.verdict === 'Error' && mv.status.analysis.time > first,
      'another analysis attempt',
    );
    expect(later.status).toMatchObject({ phase: 'Canary', weight: 50, rollout: { step: 0 } });
    await relay.open();
    await waitForMv('blind-v2', (mv) => condition(mv as never, 'Degraded')?.status === 'False', 'Degraded cleared');
    await waitForMv('blind-v2', isTrue('Promoted'), 'Promoted');
    await run.stop();
  });
});

describe('deletion', () => {
  test('deleting the canary mid-rollout returns all traffic to stable first; deleting the last version removes the routing', async () => {
    await serveV1('gone');
    const run = load({ service: 'gone', namespace: ns.name }, 'gone');
    await apply(
      manifest('gone', 'v2', {
        serving: { rollout: { steps: [{ weight: 50, pauseSeconds: 600 }, { weight: 100 }], analysis: ANALYSIS } },
      }),
    );
    await waitForMv('gone-v2', (mv) => !!mv.status?.rollout?.stepReachedAt, 'routed');
    const beforeDelete = run.report();
    await objectApi().delete({
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: 'gone-v2', namespace: ns.name },
    });
    await waitForGone(`/apis/apps/v1/namespaces/${ns.name}/deployments`, 'the canary Deployment', {
      fieldSelector: 'metadata.name=gone-v2',
      timeoutMs: 120_000,
    });
    // From then on the stable answers everything.
    expect(await nextSplit(run, 60)).toEqual({ v1: 100 });
    const report = await run.stop();
    // Traffic left the canary before its pods were deleted; a connection kube-proxy had not yet moved when
    // a pod began to drain may be refused (a cluster has the same race): a few at most, printed.
    const answered = (r: typeof report) => r.byCode['200'] ?? 0;
    const sent = report.requests - beforeDelete.requests;
    const failed = sent - (answered(report) - answered(beforeDelete));
    console.log(
      `deleting the canary mid-rollout: ${failed} of ${sent} requests sent from the delete on not answered 200 (whole run: ${JSON.stringify(report.byCode)})`,
    );
    expect(failed / sent).toBeLessThan(0.02);
    await deleteLastVersion(ns.name, 'gone-v1', 'gone', 120_000);
  });
});
