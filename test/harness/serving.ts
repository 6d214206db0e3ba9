// Hand-made serving objects shaped as the ModelVersion controller makes them (contract C1), for tests of the
// bed's data plane: a PVC holding the fixture model, Deployments of the serving image, Services, HTTPRoutes.
import { copyFile, mkdir } from 'node:fs/promises';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { objectApi, waitFor } from './cluster.js';
import { claimDirectory, TESTBED_GATEWAY } from './dataplane.js';
import { repoRoot } from './paths.js';

export const FIXTURE_MODEL = `${repoRoot}/serving-image/test/fixtures/model.onnx`;
export const FIXTURE_REFERENCE = `${repoRoot}/serving-image/test/fixtures/reference.json`;

/**
 * Call at a test file's top level, after useNamespace: createModelClaim before the tests, the PV deleted after
 * them (the PVC goes with the namespace).
 */
export function useModelClaim(namespace: { readonly name: string }, claim: string, dirs: string[]): void {
  beforeAll(() => createModelClaim(namespace.name, claim, dirs));
  afterAll(() => deleteModelClaim(namespace.name, claim));
}

/**
 * A bound PVC `claim` (on a statically provisioned PV, as an admin would make one) whose bed directory holds
 * the fixture model and reference at `<dir>/model.onnx` and `<dir>/reference.json` for each of `dirs`: a pod
 * mounting the claim at /models finds them at /models/<dir>/.
 */
export async function createModelClaim(namespace: string, claim: string, dirs: string[]): Promise<void> {
  const root = await claimDirectory(namespace, claim);
  for (const dir of dirs) {
    await mkdir(`${root}/${dir}`, { recursive: true });
    await copyFile(FIXTURE_MODEL, `${root}/${dir}/model.onnx`);
    await copyFile(FIXTURE_REFERENCE, `${root}/${dir}/reference.json`);
  }
  await createBoundClaim(namespace, claim, { path: root, accessMode: 'ReadOnlyMany' });
}

/**
 * PVC `claim` bound to its own statically provisioned PV `<namespace>-<claim>` on `path` (a hostPath: where the
 * pods are simulated nothing reads it). Delete the PV with deleteModelClaim; the PVC goes with the namespace.
 */
export async function createBoundClaim(
  namespace: string,
  claim: string,
  { path, accessMode }: { path: string; accessMode: 'ReadOnlyMany' | 'ReadWriteMany' },
): Promise<void> {
  await objectApi().create({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `${namespace}-${claim}`, labels: { 'modelops.dev/test': namespace } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: [accessMode],
      storageClassName: '',
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path },
      claimRef: { namespace, name: claim },
    },
  } as never);
  await objectApi().create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claim, namespace },
    spec: {
      accessModes: [accessMode],
      storageClassName: '',
      volumeName: `${namespace}-${claim}`,
      resources: { requests: { storage: '1Gi' } },
    },
  } as never);
  await waitFor<{ status?: { phase?: string } }>(
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    (pvc) => pvc.status?.phase === 'Bound',
    `PVC ${claim} Bound`,
    { fieldSelector: `metadata.name=${claim}` },
  );
}

export async function deleteModelClaim(namespace: string, claim: string): Promise<void> {
  await objectApi()
    .delete({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `${namespace}-${claim}` } })
    .catch(() => undefined);
}

export interface ServingOptions {
  namespace: string;
  model: string;
  version: string;
  replicas: number;
  role?: 'stable' | 'canary';
  /** The claim holding the model; MODEL_URI is /models/<modelPath>. */
  claim: string;
  modelPath: string;
  env?: Record<string, string>;
}

/** A Deployment of the serving image with C1's labels, container, probes, env and volume. */
export function servingDeployment(options: ServingOptions): V1Deployment {
  const name = `${options.model}-${options.version}`;
  const labels = {
    'app.kubernetes.io/name': 'modelops-serving',
    'app.kubernetes.io/managed-by': 'modelops',
    'modelops.dev/model': options.model,
    'modelops.dev/version': options.version,
    'modelops.dev/modelversion': name,
  };
  const env = {
    MODEL_URI: `/models/${options.modelPath}`,
    MODEL_NAME: options.model,
    MODEL_VERSION: options.version,
    MODEL_ROLE: options.role ?? 'stable',
    ...options.env,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: options.namespace, labels },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { 'modelops.dev/modelversion': name } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'modelops/serving:dev',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
              livenessProbe: { httpGet: { path: '/v2/health/live', port: 'http' } },
              readinessProbe: { httpGet: { path: '/v2/health/ready', port: 'http' }, periodSeconds: 2 },
              volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
            },
          ],
          volumes: [{ name: 'models', persistentVolumeClaim: { claimName: options.claim, readOnly: true } }],
        },
      },
    },
  };
}

/** A ClusterIP Service on port 80 to the pods' `http` port. */
export function servingService(namespace: string, name: string, selector: Record<string, string>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' as never }] },
  };
}

/** An HTTPRoute attached to the bed's Gateway, with one rule per entry (weights per Service). */
export function httpRoute(
  namespace: string,
  name: string,
  rules: { headers?: Record<string, string>; backends: Record<string, number> }[],
) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: {
      parentRefs: [{ name: TESTBED_GATEWAY.name, namespace: TESTBED_GATEWAY.namespace }],
      rules: rules.map((rule) => ({
        ...(rule.headers && {
          matches: [{ headers: Object.entries(rule.headers).map(([k, v]) => ({ name: k, value: v })) }],
        }),
        backendRefs: Object.entries(rule.backends).map(([service, weight]) => ({ name: service, port: 80, weight })),
      })),
    },
  };
}

/** Resolves when the Deployment has `replicas` ready pods (its serving processes answer readiness). */
export function deploymentReady(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
  return waitFor<V1Deployment>(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    (d) =>
      (d.status?.readyReplicas ?? 0) === replicas &&
      (d.status?.updatedReplicas ?? 0) === replicas &&
      (d.status?.replicas ?? 0) === replicas,
    `deployment ${name} with ${replicas} ready replicas`,
    { fieldSelector: `metadata.name=${name}`, timeoutMs: 120_000 },
  );
}
