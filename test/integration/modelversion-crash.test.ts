// The operator as a process, SIGKILLed at a random moment of a rollout and started again, 20 times: every
// rollout ends where an uninterrupted one would (a good canary promoted, a bad one rolled back), and the
// cluster holds exactly the objects the versions call for — no duplicated or orphaned Deployments,
// Services or HTTPRoutes. Routing is by Gateway API, so the route is under test too (its CRDs are installed
// if the bed has none). Metrics come from a stand-in Prometheus the test scripts.
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import type { ModelVersion } from '../../operator/src/api/index.js';
import type { HTTPRoute } from '../../operator/src/controllers/modelversion/traffic/httproute.js';
import { condition, kubectl, useNamespace, waitFor } from '../harness/cluster.js';
import { repoRoot } from '../harness/paths.js';
import { StandInPrometheus, createModelsClaim, deleteModelsClaim, ensureGatewayApi } from './modelversion.helpers.js';

const ns = useNamespace('mvcrash');
const prometheus = new StandInPrometheus();
const ROUNDS = 20;
let operator: ChildProcess | undefined;
let output = '';

function startOperator(): ChildProcess {
  const child = spawn(
    'node',
    [
      '--import',
      'tsx',
      'operator/src/main.ts',
      `--namespaces=${ns.name}`,
      `--prometheus-url=${prometheus.url}`,
      '--metrics-port=0',
      '--health-port=0',
    ],
    { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  await ensureGatewayApi();
  await createModelsClaim(
    ns.name,
    Array.from({ length: ROUNDS + 1 }, (_v, i) => `fraud/v${i + 1}`),
  );
  await prometheus.start();
  operator = startOperator();
});
afterAll(async () => {
  await kubectl(['delete', 'mv', '--all', '-n', ns.name, '--wait=true', '--timeout=120s']);
  if (operator) await kill(operator);
  await prometheus.stop();
  await deleteModelsClaim(ns.name);
});

type MV = ModelVersion & { metadata: { name: string } };
const version = (n: number, bad: boolean) => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name: `fraud-v${n}`, namespace: ns.name },
  spec: {
    model: 'fraud',
    version: `v${n}`,
    artifact: { uri: `pvc://models/fraud/v${n}/model.onnx` },
    serving: {
      replicas: 2,
      traffic: { gatewayAPI: { parentRefs: [{ name: 'testbed', namespace: 'gateway' }] } },
      rollout: {
        steps: [
          { weight: 30, pauseSeconds: 1 },
          { weight: 60, pauseSeconds: 1 },
          { weight: 100, pauseSeconds: 1 },
        ],
        scaleDownDelaySeconds: 0,
        analysis: { intervalSeconds: 1, windowSeconds: 10, failureLimit: bad ? 2 : 1, minSamples: 10 },
      },
    },
  },
});
const apply = async (obj: object) => {
  const result = await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], dump(obj));
  if (result.code !== 0) throw new Error(result.stderr);
};
const waitForMv = (name: string, predicate: (mv: MV) => boolean, what: string) =>
  waitFor<MV>(`/apis/modelops.dev/v1alpha1/namespaces/${ns.name}/modelversions`, predicate, `${name}: ${what}`, {
    fieldSelector: `metadata.name=${name}`,
    timeoutMs: 90_000,
  });
const isTrue = (type: string) => (mv: MV) => condition(mv as never, type)?.status === 'True';
const names = async (kind: string) => {
  const r = await kubectl(['get', kind, '-n', ns.name, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).sort();
};

test(`SIGKILLed at a random point of each of ${ROUNDS} rollouts: the same final state, no duplicates or orphans`, async () => {
  await apply(version(1, false));
  await waitForMv('fraud-v1', isTrue('Ready'), 'Ready');
  let stable = 1;
  const outcomes: string[] = [];
  const killedAt: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const n = round + 1;
    // Every third canary errors: it must end rolled back, whatever the kills.
    const bad = round % 3 === 0;
    prometheus.errorRate[`v${n}`] = bad ? 0.5 : 0;
    await apply(version(n, bad));
    // Somewhere within the rollout (deploying, shifting, analysing, promoting): kill, then start again.
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5000)));
    const at = (await waitForMv(`fraud-v${n}`, () => true, 'read')).status;
    killedAt.push(`${at?.phase ?? 'new'}${at?.rollout?.step !== undefined ? `@${at.rollout.step}` : ''}`);
    await kill(operator!);
    operator = startOperator();

    const done = await waitForMv(`fraud-v${n}`, (mv) => isTrue('Promoted')(mv) || isTrue('RolledBack')(mv), 'settled');
    outcomes.push(isTrue('Promoted')(done) ? 'promoted' : 'rolled back');
    expect(outcomes.at(-1)).toBe(bad ? 'rolled back' : 'promoted');
    if (!bad) {
      await waitForMv(`fraud-v${stable}`, (mv) => mv.status?.phase === 'Retired', 'retired');
      stable = n;
    }
    // Exactly what the versions call for: one Deployment and Service per version, the model's Service, one route.
    const versions = Array.from({ length: n }, (_v, i) => `fraud-v${i + 1}`).sort();
    expect(await names('deployments')).toEqual(versions);
    expect(await names('services')).toEqual([...versions, 'fraud'].sort());
    expect(await names('httproutes.gateway.networking.k8s.io')).toEqual(['fraud']);
    const all = await kubectl(['get', 'mv', '-n', ns.name, '-o', 'json']);
    const stables = (JSON.parse(all.stdout) as { items: MV[] }).items.filter((mv) => mv.status?.role === 'stable');
    expect(stables.map((mv) => mv.metadata.name)).toEqual([`fraud-v${stable}`]);
    // The statuses are written before the objects that enact them (so a kill in between is repaired from
    // them): the route and the model's Service follow the settled status within the same pass.
    const only = `fraud-v${stable}`;
    await waitFor<HTTPRoute>(
      `/apis/gateway.networking.k8s.io/v1/namespaces/${ns.name}/httproutes`,
      (r) => {
        const refs = r.spec.rules?.flatMap((rule) => rule.backendRefs ?? []) ?? [];
        return refs.length === 1 && refs[0]!.name === only && refs[0]!.port === 80 && refs[0]!.weight === 100;
      },
      `route fraud: all traffic to ${only}`,
      { fieldSelector: 'metadata.name=fraud', timeoutMs: 30_000 },
    );
    await waitFor<V1Service>(
      `/api/v1/namespaces/${ns.name}/services`,
      (svc) => isDeepStrictEqual(svc.spec?.selector, { 'modelops.dev/modelversion': only }),
      `Service fraud selecting ${only}`,
      { fieldSelector: 'metadata.name=fraud', timeoutMs: 30_000 },
    );
  }
  // Only the stable keeps pods: rolled-back and retired versions are scaled to zero once their pods have
  // drained (30 s after their traffic left), so this is checked once, at the end.
  for (let n = 1; n <= ROUNDS + 1; n++)
    if (n !== stable)
      await waitFor<V1Deployment>(
        `/apis/apps/v1/namespaces/${ns.name}/deployments`,
        (d) => d.spec?.replicas === 0,
        `fraud-v${n} at 0 replicas`,
        { fieldSelector: `metadata.name=fraud-v${n}`, timeoutMs: 90_000 },
      );
  console.log(`killed at (phase@step): ${killedAt.join(', ')}\noutcomes: ${outcomes.join(', ')}`);
  expect(outcomes.filter((o) => o === 'rolled back')).toHaveLength(6);
}, 900_000);
