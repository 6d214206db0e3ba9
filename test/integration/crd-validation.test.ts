// Invalid resources are rejected at `kubectl apply` by the CRD schemas (OpenAPI + CEL), each with a
// message that names the field; every example in examples/ is accepted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { kubectl, useNamespace } from '../harness/cluster.js';
import { repoRoot } from '../harness/paths.js';

const ns = useNamespace('crd');

type Manifest = Record<string, unknown> & { spec: Record<string, unknown> };

const trainingJob = (): Manifest => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'TrainingJob',
  metadata: { name: 'tj' },
  spec: { image: 'trainer:1', dataset: { uri: 'synthetic://fraud' }, output: { uri: 'pvc://models/fraud' } },
});
const modelVersion = (): Manifest => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name: 'mv' },
  spec: { model: 'fraud', version: 'v1', artifact: { uri: 'pvc://models/fraud/model.onnx' } },
});
const driftMonitor = (): Manifest => ({
  apiVersion: 'modelops.dev/v1alpha1',
  kind: 'DriftMonitor',
  metadata: { name: 'dm' },
  spec: { model: 'fraud' },
});

/** Sets a dotted path (array indexes as numbers) on a copy of the manifest's spec. */
function withSpec(base: () => Manifest, path: string, value: unknown): Manifest {
  const manifest = base();
  const keys = path.split('.');
  let node: Record<string, unknown> = manifest.spec;
  for (const key of keys.slice(0, -1))
    node = (node[key] ??= /^\d+$/.test(keys[keys.indexOf(key) + 1]!) ? [] : {}) as Record<string, unknown>;
  if (value === undefined) delete node[keys.at(-1)!];
  else node[keys.at(-1)!] = value;
  return manifest;
}

const invalid: [string, Manifest, RegExp][] = [
  // TrainingJob
  ['TrainingJob without image', withSpec(trainingJob, 'image', undefined), /spec\.image: Required value/],
  ['TrainingJob with empty image', withSpec(trainingJob, 'image', ''), /spec\.image: Invalid value.*at least 1 chars/],
  ['TrainingJob without dataset', withSpec(trainingJob, 'dataset', undefined), /spec\.dataset: Required value/],
  [
    'TrainingJob without dataset.uri',
    withSpec(trainingJob, 'dataset', { version: 'v1' }),
    /spec\.dataset\.uri: Required value/,
  ],
  ['TrainingJob without output', withSpec(trainingJob, 'output', undefined), /spec\.output: Required value/],
  [
    'TrainingJob with an http output',
    withSpec(trainingJob, 'output.uri', 'http://x/y'),
    /spec\.output\.uri: Invalid value.*should match/,
  ],
  [
    'TrainingJob with s3 output and no credentials',
    withSpec(trainingJob, 'output.uri', 's3://bucket/models'),
    /spec\.output\.credentialsSecret: .*an s3:\/\/ output needs credentialsSecret/,
  ],
  [
    'TrainingJob with negative GPUs',
    withSpec(trainingJob, 'gpus', { count: -1 }),
    /spec\.gpus\.count: Invalid value: -1.*greater than or equal to 0/,
  ],
  [
    'TrainingJob with 17 GPUs per node',
    withSpec(trainingJob, 'gpus', { count: 17 }),
    /spec\.gpus\.count: Invalid value: 17.*less than or equal to 16/,
  ],
  [
    'TrainingJob with fractional GPUs',
    withSpec(trainingJob, 'gpus', { count: 0.5 }),
    /spec\.gpus\.count: Invalid value: "number".*must be of type integer/,
  ],
  [
    'TrainingJob with a GPU model and no GPUs',
    withSpec(trainingJob, 'gpus', { count: 0, model: 'NVIDIA-H100-80GB-HBM3' }),
    /spec\.gpus\.model: .*gpus\.model needs gpus\.count > 0/,
  ],
  [
    'TrainingJob with an unknown GPU allocation',
    withSpec(trainingJob, 'gpus', { count: 1, allocation: 'MIG' }),
    /spec\.gpus\.allocation: Unsupported value: "MIG"/,
  ],
  [
    'TrainingJob with zero nodes',
    withSpec(trainingJob, 'nodes', 0),
    /spec\.nodes: Invalid value: 0.*greater than or equal to 1/,
  ],
  ['TrainingJob with 65 nodes', withSpec(trainingJob, 'nodes', 65), /spec\.nodes: Invalid value: 65/],
  [
    'TrainingJob with a bad CPU quantity',
    withSpec(trainingJob, 'resources', { cpu: 'lots' }),
    /spec\.resources\.cpu: Invalid value: "lots"/,
  ],
  [
    'TrainingJob with a bad memory quantity',
    withSpec(trainingJob, 'resources', { memory: '12 GB' }),
    /spec\.resources\.memory: Invalid value: "12 GB"/,
  ],
  [
    'TrainingJob with negative backoffLimit',
    withSpec(trainingJob, 'runPolicy', { backoffLimit: -1 }),
    /spec\.runPolicy\.backoffLimit: Invalid value: -1/,
  ],
  [
    'TrainingJob with zero activeDeadlineSeconds',
    withSpec(trainingJob, 'runPolicy', { activeDeadlineSeconds: 0 }),
    /spec\.runPolicy\.activeDeadlineSeconds: Invalid value: 0/,
  ],
  [
    'TrainingJob with a string suspend',
    withSpec(trainingJob, 'runPolicy', { suspend: 'yes' }),
    /spec\.runPolicy\.suspend: Invalid value: "string"/,
  ],
  [
    'TrainingJob with numeric hyperparameters',
    withSpec(trainingJob, 'hyperparameters', { lr: 0.1 }),
    /spec\.hyperparameters\.lr: Invalid value: "number"/,
  ],
  [
    'TrainingJob with an env var without name',
    withSpec(trainingJob, 'env', [{ value: 'x' }]),
    /spec\.env\[0\]\.name: Required value/,
  ],
  [
    'TrainingJob registering an invalid model name',
    withSpec(trainingJob, 'register', { modelName: 'Fraud_Model' }),
    /spec\.register\.modelName: Invalid value: "Fraud_Model"/,
  ],
  [
    'TrainingJob gate with an unknown operator',
    withSpec(trainingJob, 'register', {
      modelName: 'fraud',
      gate: [{ metric: 'val_auc', operator: '=>', threshold: 0.9 }],
    }),
    /spec\.register\.gate\[0\]\.operator: Unsupported value: "=>"/,
  ],
  [
    'TrainingJob gate without threshold',
    withSpec(trainingJob, 'register', { modelName: 'fraud', gate: [{ metric: 'val_auc', operator: '>=' }] }),
    /spec\.register\.gate\[0\]\.threshold: Required value/,
  ],
  // What the Job, Service or ModelVersion of a run would be refused for, refused here instead.
  [
    'TrainingJob named 64 characters',
    { ...trainingJob(), metadata: { name: 'a'.repeat(64) } },
    /a TrainingJob's name is at most 63 characters: its Job and its pods' labels take the name/,
  ],
  [
    'multi-node TrainingJob named 56 characters',
    { ...withSpec(trainingJob, 'nodes', 2), metadata: { name: 'a'.repeat(56) } },
    /a multi-node TrainingJob's name is at most 55 characters, starts with a letter and has no dots/,
  ],
  [
    'multi-node TrainingJob with a dot in its name',
    { ...withSpec(trainingJob, 'nodes', 2), metadata: { name: 'fraud.v2' } },
    /a multi-node TrainingJob's name is at most 55 characters/,
  ],
  [
    'TrainingJob of 54 characters registering without a version',
    { ...withSpec(trainingJob, 'register', { modelName: 'fraud' }), metadata: { name: 'a'.repeat(54) } },
    /without spec\.register\.version the TrainingJob's name is the registered version, and a version is at most 40 characters/,
  ],
  [
    'TrainingJob with a queue name that is no label value',
    withSpec(trainingJob, 'runPolicy', { queueName: 'gpu queue' }),
    /spec\.runPolicy\.queueName: Invalid value: "gpu queue"/,
  ],
  [
    'TrainingJob with negative CPU',
    withSpec(trainingJob, 'resources', { cpu: -4 }),
    /spec\.resources\.cpu: Invalid value: -4/,
  ],
  [
    'TrainingJob with negative memory',
    withSpec(trainingJob, 'resources', { memory: '-4Gi' }),
    /spec\.resources\.memory: Invalid value: "-4Gi"/,
  ],
  [
    'TrainingJob with "=" in an env name',
    withSpec(trainingJob, 'env', [{ name: 'A=B', value: 'x' }]),
    /spec\.env\[0\]\.name: Invalid value: "A=B"/,
  ],
  [
    'TrainingJob with an env var from two sources',
    withSpec(trainingJob, 'env', [
      { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' }, fieldRef: { fieldPath: 'metadata.name' } } },
    ]),
    /spec\.env\[0\]\.valueFrom: .*valueFrom needs exactly one of/,
  ],
  [
    'TrainingJob with a pod label key that is no qualified name',
    withSpec(trainingJob, 'podMetadata', { labels: { 'team name': 'risk' } }),
    /spec\.podMetadata\.labels: .*label keys are \[prefix\/\]name/,
  ],
  [
    'TrainingJob with a pod label value that is no label value',
    withSpec(trainingJob, 'podMetadata', { labels: { team: 'risk & fraud' } }),
    /spec\.podMetadata\.labels: .*label values are at most 63 characters/,
  ],
  [
    'TrainingJob with a garbage dataset URI',
    withSpec(trainingJob, 'dataset', { uri: 'my data set' }),
    /spec\.dataset\.uri: Invalid value: "my data set": spec\.dataset\.uri in body should match/,
  ],
  [
    'TrainingJob with a dataset URI of an unknown scheme',
    withSpec(trainingJob, 'dataset', { uri: 'ftp://host/data.csv' }),
    /spec\.dataset\.uri: Invalid value: "ftp:\/\/host\/data\.csv"/,
  ],
  [
    'TrainingJob with a 1 MB image name',
    withSpec(trainingJob, 'image', `registry.example/${'a'.repeat(1 << 20)}`),
    /spec\.image: Too long: may not be (longer|more) than 512/,
  ],
  [
    'TrainingJob with a 1 MB hyperparameter',
    withSpec(trainingJob, 'hyperparameters', { lr: '1'.repeat(1 << 20) }),
    /spec\.hyperparameters\.lr: Too long: may not be (longer|more) than 1024/,
  ],
  [
    'TrainingJob with a hyperparameter name with a space',
    withSpec(trainingJob, 'hyperparameters', { 'learning rate': '0.1' }),
    /spec\.hyperparameters: .*hyperparameter names are at most 63 characters/,
  ],
  [
    'TrainingJob gate on a malformed metric name',
    withSpec(trainingJob, 'register', {
      modelName: 'fraud',
      gate: [{ metric: 'val auc', operator: '>=', threshold: 1 }],
    }),
    /spec\.register\.gate\[0\]\.metric: Invalid value: "val auc"/,
  ],
  // ModelVersion
  ['ModelVersion without model', withSpec(modelVersion, 'model', undefined), /spec\.model: Required value/],
  [
    'ModelVersion with an uppercase model',
    withSpec(modelVersion, 'model', 'Fraud'),
    /spec\.model: Invalid value: "Fraud"/,
  ],
  [
    'ModelVersion with a model starting with a digit (not a DNS-1035 label)',
    withSpec(modelVersion, 'model', '1fraud'),
    /spec\.model: Invalid value: "1fraud"/,
  ],
  ['ModelVersion with a 64-character model', withSpec(modelVersion, 'model', 'a'.repeat(64)), /spec\.model: Too long/],
  ['ModelVersion without version', withSpec(modelVersion, 'version', undefined), /spec\.version: Required value/],
  [
    'ModelVersion with a version containing a slash',
    withSpec(modelVersion, 'version', 'v1/2'),
    /spec\.version: Invalid value: "v1\/2"/,
  ],
  [
    'ModelVersion named with a dot (not a DNS-1035 label)',
    { ...modelVersion(), metadata: { name: 'fraud.v1' } },
    /metadata\.name must be a DNS-1035 label/,
  ],
  [
    'ModelVersion named after its model',
    { ...modelVersion(), metadata: { name: 'fraud' } },
    /metadata\.name must differ from spec\.model/,
  ],
  ['ModelVersion without artifact', withSpec(modelVersion, 'artifact', undefined), /spec\.artifact: Required value/],
  [
    'ModelVersion with a malformed digest',
    withSpec(modelVersion, 'artifact', { uri: 'pvc://models/m.onnx', digest: 'md5:abc' }),
    /spec\.artifact\.digest: Invalid value: "md5:abc"/,
  ],
  [
    'ModelVersion with an ftp artifact',
    withSpec(modelVersion, 'artifact', { uri: 'ftp://host/model.onnx' }),
    /spec\.artifact\.uri: .*artifact\.uri must be pvc:\/\/CLAIM\/PATH, s3:\/\/BUCKET\/KEY or http\(s\):\/\//,
  ],
  [
    'ModelVersion with a pvc artifact without a path',
    withSpec(modelVersion, 'artifact', { uri: 'pvc://models' }),
    /spec\.artifact\.uri: .*artifact\.uri must be/,
  ],
  [
    'ModelVersion with a bare-path reference',
    withSpec(modelVersion, 'reference', { uri: '/models/reference.json' }),
    /spec\.reference\.uri: .*reference\.uri must be/,
  ],
  [
    'ModelVersion with zero replicas',
    withSpec(modelVersion, 'serving', { replicas: 0 }),
    /spec\.serving\.replicas: Invalid value: 0/,
  ],
  [
    'ModelVersion autoscaling with minReplicas above maxReplicas',
    withSpec(modelVersion, 'serving', { autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
    /spec\.serving\.autoscaling: .*minReplicas must not exceed maxReplicas/,
  ],
  [
    'ModelVersion with a canary weight of 0',
    withSpec(modelVersion, 'serving', { rollout: { steps: [{ weight: 0 }, { weight: 100 }] } }),
    /spec\.serving\.rollout\.steps\[0\]\.weight: Invalid value: 0/,
  ],
  [
    'ModelVersion with a canary weight over 100',
    withSpec(modelVersion, 'serving', { rollout: { steps: [{ weight: 101 }] } }),
    /spec\.serving\.rollout\.steps\[0\]\.weight: Invalid value: 101/,
  ],
  [
    'ModelVersion with decreasing canary weights',
    withSpec(modelVersion, 'serving', { rollout: { steps: [{ weight: 50 }, { weight: 20 }, { weight: 100 }] } }),
    /spec\.serving\.rollout\.steps: .*canary step weights must be strictly increasing/,
  ],
  [
    'ModelVersion with repeated canary weights',
    withSpec(modelVersion, 'serving', { rollout: { steps: [{ weight: 20 }, { weight: 20 }, { weight: 100 }] } }),
    /spec\.serving\.rollout\.steps: .*canary step weights must be strictly increasing/,
  ],
  [
    'ModelVersion whose canary steps stop short of 100',
    withSpec(modelVersion, 'serving', { rollout: { steps: [{ weight: 10 }, { weight: 50 }] } }),
    /spec\.serving\.rollout\.steps: .*the last canary step must be weight 100/,
  ],
  [
    'ModelVersion with no canary steps',
    withSpec(modelVersion, 'serving', { rollout: { steps: [] } }),
    /spec\.serving\.rollout\.steps: Invalid value.*at least 1 item/,
  ],
  [
    'ModelVersion with an error-rate bound over 1',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { errorRate: { max: 1.5 } } } }),
    /spec\.serving\.rollout\.analysis\.errorRate\.max: Invalid value: 1\.5/,
  ],
  [
    'ModelVersion with a negative latency bound',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { latencyP99: { maxMs: -1 } } } }),
    /spec\.serving\.rollout\.analysis\.latencyP99\.maxMs: Invalid value: -1/,
  ],
  [
    'ModelVersion with a failureLimit of 0',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { failureLimit: 0 } } }),
    /spec\.serving\.rollout\.analysis\.failureLimit: Invalid value: 0/,
  ],
  [
    'ModelVersion with an unknown prediction-shift method',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { predictionShift: { method: 'KL' } } } }),
    /spec\.serving\.rollout\.analysis\.predictionShift\.method: Unsupported value: "KL"/,
  ],
  [
    'ModelVersion with a non-http Prometheus URL',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { prometheusUrl: 'prometheus:9090' } } }),
    /spec\.serving\.rollout\.analysis\.prometheusUrl: .*prometheusUrl must be an http\(s\):\/\/ URL/,
  ],
  [
    'ModelVersion with credentials in its Prometheus URL',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { prometheusUrl: 'http://admin:secret@prom:9090' } } }),
    /spec\.serving\.rollout\.analysis\.prometheusUrl: .*prometheusUrl must be an http\(s\):\/\/ URL without credentials/,
  ],
  [
    'ModelVersion with a query check without bounds',
    withSpec(modelVersion, 'serving', { rollout: { analysis: { queries: [{ name: 'q', query: 'up' }] } } }),
    /spec\.serving\.rollout\.analysis\.queries\[0\]: .*a query check needs max, min or both/,
  ],
  [
    'ModelVersion with two query checks of one name',
    withSpec(modelVersion, 'serving', {
      rollout: {
        analysis: {
          queries: [
            { name: 'q', query: 'up', max: 1 },
            { name: 'q', query: 'up', min: 0 },
          ],
        },
      },
    }),
    /spec\.serving\.rollout\.analysis\.queries: .*query check names must be unique/,
  ],
  [
    'ModelVersion experiment with both weight and header',
    withSpec(modelVersion, 'serving', {
      traffic: { gatewayAPI: { parentRefs: [{ name: 'gw' }] } },
      rollout: { experiment: { weight: 10, header: { name: 'x-v', value: '2' } } },
    }),
    /spec\.serving\.rollout\.experiment: .*an experiment has either weight or header/,
  ],
  [
    'ModelVersion experiment by header without Gateway API',
    withSpec(modelVersion, 'serving', { rollout: { experiment: { header: { name: 'x-v', value: '2' } } } }),
    /spec\.serving\.rollout\.experiment\.header: .*an experiment by header needs traffic\.gatewayAPI\.parentRefs/,
  ],
  [
    'ModelVersion gatewayAPI with neither parentRefs nor httpRoute',
    withSpec(modelVersion, 'serving', { traffic: { gatewayAPI: {} } }),
    /spec\.serving\.traffic\.gatewayAPI: .*gatewayAPI needs either parentRefs .* or httpRoute/,
  ],
  [
    'ModelVersion gatewayAPI with both parentRefs and httpRoute',
    withSpec(modelVersion, 'serving', { traffic: { gatewayAPI: { parentRefs: [{ name: 'gw' }], httpRoute: 'r' } } }),
    /spec\.serving\.traffic\.gatewayAPI: .*gatewayAPI needs either parentRefs .* or httpRoute/,
  ],
  [
    'TrainingJob registering a ModelVersion whose name would exceed 63 characters',
    withSpec(trainingJob, 'register', { modelName: 'm'.repeat(40), version: 'v'.repeat(30) }),
    /register: the ModelVersion name <modelName>-<version>.*must be at most 63 characters/,
  ],
  // DriftMonitor
  ['DriftMonitor without model', withSpec(driftMonitor, 'model', undefined), /spec\.model: Required value/],
  [
    'DriftMonitor with a Prometheus URL with a space in it',
    withSpec(driftMonitor, 'prometheusUrl', 'http://prom:9090/ x'),
    /spec\.prometheusUrl: .*prometheusUrl must be an http\(s\):\/\/ URL without credentials/,
  ],
  [
    'DriftMonitor with credentials in its Prometheus URL',
    withSpec(driftMonitor, 'prometheusUrl', 'https://admin:secret@prom:9090'),
    /spec\.prometheusUrl: .*prometheusUrl must be an http\(s\):\/\/ URL without credentials/,
  ],
  [
    'DriftMonitor with an unknown method',
    withSpec(driftMonitor, 'tests', [{ method: 'Wasserstein', warning: 0.1, critical: 0.2 }]),
    /spec\.tests\[0\]\.method: Unsupported value: "Wasserstein"/,
  ],
  [
    'DriftMonitor with warning above critical',
    withSpec(driftMonitor, 'tests', [{ method: 'PSI', warning: 0.3, critical: 0.2 }]),
    /spec\.tests\[0\]\.warning: .*warning must come before critical/,
  ],
  [
    'DriftMonitor with equal thresholds',
    withSpec(driftMonitor, 'tests', [{ method: 'KS', warning: 0.2, critical: 0.2 }]),
    /spec\.tests\[0\]\.warning: .*warning must come before critical/,
  ],
  [
    'DriftMonitor with a negative threshold',
    withSpec(driftMonitor, 'tests', [{ method: 'JS', warning: -0.1, critical: 0.2 }]),
    /spec\.tests\[0\]\.warning: Invalid value: -0\.1/,
  ],
  [
    'DriftMonitor with a method twice',
    withSpec(driftMonitor, 'tests', [
      { method: 'PSI', warning: 0.1, critical: 0.2 },
      { method: 'PSI', warning: 0.2, critical: 0.3 },
    ]),
    /spec\.tests: .*each method may appear once/,
  ],
  ['DriftMonitor with no tests', withSpec(driftMonitor, 'tests', []), /spec\.tests: Invalid value.*at least 1 item/],
  [
    'DriftMonitor with a 5-second interval',
    withSpec(driftMonitor, 'intervalSeconds', 5),
    /spec\.intervalSeconds: Invalid value: 5/,
  ],
  [
    'DriftMonitor with a 9-second window',
    withSpec(driftMonitor, 'windowSeconds', 9),
    /spec\.windowSeconds: Invalid value: 9/,
  ],
  [
    'DriftMonitor with a window shorter than its interval',
    withSpec(() => withSpec(driftMonitor, 'intervalSeconds', 600), 'windowSeconds', 300),
    /spec\.windowSeconds: .*windowSeconds must be at least intervalSeconds/,
  ],
  [
    'DriftMonitor with the default window and a longer interval',
    withSpec(driftMonitor, 'intervalSeconds', 7200),
    /windowSeconds must be at least intervalSeconds/,
  ],
  [
    'DriftMonitor with ChiSquare thresholds the wrong way round',
    withSpec(driftMonitor, 'tests', [{ method: 'ChiSquare', warning: 0.01, critical: 0.05 }]),
    /spec\.tests\[0\]\.warning: .*for ChiSquare \(a p-value\) higher than critical/,
  ],
  [
    'DriftMonitor with a JS threshold above 1',
    withSpec(driftMonitor, 'tests', [{ method: 'JS', critical: 1.5 }]),
    /spec\.tests\[0\]: .*KS, JS and ChiSquare thresholds lie in \[0, 1\]/,
  ],
  [
    'DriftMonitor with an unknown version choice',
    withSpec(driftMonitor, 'versions', 'Newest'),
    /spec\.versions: Unsupported value: "Newest"/,
  ],
  [
    'DriftMonitor with an s3:// reference (not fetched by the operator yet)',
    withSpec(driftMonitor, 'reference', { uri: 's3://bucket/reference.json' }),
    /spec\.reference\.uri: Invalid value/,
  ],
  [
    'DriftMonitor with a drifted share of 0',
    withSpec(driftMonitor, 'driftedShare', 0),
    /spec\.driftedShare: Invalid value: 0: driftedShare must be above 0/,
  ],
  [
    'DriftMonitor with a feature name that no reference can hold',
    withSpec(driftMonitor, 'features', ['amount', 'card-type']),
    /spec\.features\[1\]: Invalid value: "card-type"/,
  ],
  [
    'DriftMonitor with a feature listed twice',
    withSpec(driftMonitor, 'features', ['amount', 'amount']),
    /spec\.features\[1\]: Duplicate value: "amount"/,
  ],
  [
    'DriftMonitor rolling back a canary it does not watch',
    withSpec(driftMonitor, 'actions', { rollbackCanary: true }),
    /spec\.actions\.rollbackCanary: .*needs versions Canary or Both/,
  ],
  [
    'DriftMonitor retraining from a template that registers nothing',
    withSpec(driftMonitor, 'actions', {
      retrain: { template: { image: 'x', dataset: { uri: 'y' }, output: { uri: 'pvc://models/z' } } },
    }),
    /spec\.actions\.retrain\.template\.register: .*must register its result/,
  ],
  [
    'DriftMonitor retraining into a fixed version',
    withSpec(driftMonitor, 'actions', {
      retrain: {
        template: {
          image: 'x',
          dataset: { uri: 'y' },
          output: { uri: 'pvc://models/z' },
          register: { modelName: 'fraud', version: 'v2' },
        },
      },
    }),
    /template\.register\.version: .*must be unset/,
  ],
  [
    'DriftMonitor retraining another model',
    withSpec(driftMonitor, 'actions', {
      retrain: {
        template: {
          image: 'x',
          dataset: { uri: 'y' },
          output: { uri: 'pvc://models/z' },
          register: { modelName: 'churn' },
        },
      },
    }),
    /spec\.actions\.retrain\.template\.register\.modelName: .*must be the monitored model/,
  ],
  [
    'DriftMonitor retraining more than 10 times a day',
    withSpec(driftMonitor, 'actions', {
      retrain: {
        maxPerDay: 24,
        template: {
          image: 'x',
          dataset: { uri: 'y' },
          output: { uri: 'pvc://models/z' },
          register: { modelName: 'fraud' },
        },
      },
    }),
    /spec\.actions\.retrain\.maxPerDay: Invalid value: 24/,
  ],
  [
    'DriftMonitor retraining with an invalid template',
    withSpec(driftMonitor, 'actions', {
      retrain: { template: { image: 'x', dataset: { uri: 'y' }, output: { uri: 'z' } } },
    }),
    /spec\.actions\.retrain\.template\.output\.uri: Invalid value: "z"/,
  ],
];

const apply = (manifest: Manifest) => kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', '-'], dump(manifest));

test.each(invalid)('rejects %s', async (_name, manifest, message) => {
  const result = await apply(manifest);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(message);
});

test.each([trainingJob, modelVersion, driftMonitor].map((m) => [m().kind, m()] as const))(
  'accepts a minimal %s',
  async (_kind, manifest) => {
    const result = await apply(manifest);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  },
);

const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'));
test.each(examples)('accepts examples/%s', async (file) => {
  for (const doc of loadAll(readFileSync(join(repoRoot, 'examples', file), 'utf8'))) {
    const manifest = doc as Manifest;
    if (!String(manifest.apiVersion).startsWith('modelops.dev/')) continue;
    const result = await apply(manifest);
    expect(result.stderr).toBe('');
  }
});

test('leaving out spec.gpus is one GPU per node, said in the stored object and in kubectl explain', async () => {
  const stored = await kubectl(
    ['apply', '--dry-run=server', '-n', ns.name, '-o', 'json', '-f', '-'],
    dump(trainingJob()),
  );
  expect(JSON.parse(stored.stdout).spec.gpus).toEqual({
    count: 1,
    allocation: 'DevicePlugin',
    deviceClassName: 'gpu.nvidia.com',
  });
  const explained = await kubectl(['explain', 'trainingjob.spec.gpus']);
  expect(explained.stdout.replace(/\s+/g, ' ')).toMatch(
    /Omitted, a run gets one GPU per node through the device plugin/,
  );
});

describe('immutable fields', () => {
  test.each([
    ['ModelVersion', modelVersion, 'version', 'v2', /version is immutable/],
    ['ModelVersion', modelVersion, 'artifact', { uri: 'pvc://models/other.onnx' }, /artifact is immutable/],
    ['TrainingJob', trainingJob, 'image', 'trainer:2', /image is immutable/],
    [
      'TrainingJob',
      trainingJob,
      'hyperparameters',
      { lr: '0.1' },
      /spec\.hyperparameters: .*hyperparameters is immutable/,
    ],
    ['TrainingJob', trainingJob, 'gpus', { count: 4 }, /spec\.gpus: .*gpus is immutable/],
    ['DriftMonitor', driftMonitor, 'model', 'other', /model is immutable/],
  ] as const)('%s.spec.%s cannot change', async (_kind, base, field, value, message) => {
    const created = await kubectl(['apply', '-n', ns.name, '-f', '-'], dump(base()));
    expect(created.code).toBe(0);
    const changed = await kubectl(['apply', '-n', ns.name, '-f', '-'], dump(withSpec(base, field, value)));
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(message);
  });
});
