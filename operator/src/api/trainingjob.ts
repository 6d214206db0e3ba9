// TrainingJob: one training run on GPUs, as a batch/v1 Job, and an optional gate that registers the
// result as a ModelVersion.
import {
  object,
  string,
  integer,
  number,
  numberMap,
  boolean,
  enumOf,
  stringMap,
  quantity,
  list,
  optional,
  cel,
  immutableOptional,
  type Static,
} from './schema.js';
import { conditions, observedGeneration, envList, LocalObjectReference, DNS1035_LABEL } from './common.js';
import { ModelVersionServingSpec } from './modelversion.js';
import type { CrdDefinition } from './crd.js';

const metricName = () =>
  string('Name of a metric the training program reported (e.g. val_auc).', {
    pattern: '^[A-Za-z_][A-Za-z0-9_.]*$',
    maxLength: 63,
  });

export const MetricGate = object('One condition on a reported metric, e.g. val_auc >= 0.9.', {
  metric: metricName(),
  operator: enumOf(['>=', '>', '<=', '<'] as const, 'How the metric compares to the threshold.'),
  threshold: number('The threshold.'),
});
export type MetricGate = Static<typeof MetricGate>;

export const RegisterSpec = object('Register the trained model as a ModelVersion when its metrics pass the gate.', {
  modelName: string("Name of the model the new version belongs to (the ModelVersion's spec.model).", {
    pattern: DNS1035_LABEL,
    maxLength: 61,
  }),
  version: optional(
    string(
      "Version to register; defaults to the TrainingJob's name. The ModelVersion is named <modelName>-<version>.",
      {
        pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
        maxLength: 61,
      },
    ),
  ),
  gate: optional(
    list(MetricGate, 'Every entry must hold for the model to be registered.', { maxItems: 16, default: [] }),
  ),
  mustBeatStable: optional(
    object("Also require the new model to beat the metrics recorded for the model's stable version.", {
      metric: metricName(),
      higherIsBetter: optional(boolean('Whether a larger value of the metric is better.', { default: true })),
    }),
  ),
  serving: optional(ModelVersionServingSpec),
});
export type RegisterSpec = Static<typeof RegisterSpec>;

export const GpuSpec = object('The GPUs each node of the run gets.', {
  count: optional(integer('GPUs per node.', { minimum: 0, maximum: 16, default: 1 })),
  model: optional(
    string(
      'GPU model, as NVIDIA GPU feature discovery labels nodes (nvidia.com/gpu.product), e.g. NVIDIA-H100-80GB-HBM3.',
      { maxLength: 63 },
    ),
  ),
  allocation: optional(
    enumOf(
      ['DevicePlugin', 'DynamicResourceAllocation'] as const,
      "DevicePlugin requests the nvidia.com/gpu extended resource (NVIDIA's device plugin); DynamicResourceAllocation creates a ResourceClaimTemplate against the gpu.nvidia.com DeviceClass (NVIDIA's DRA driver).",
      { default: 'DevicePlugin' },
    ),
  ),
  deviceClassName: optional(
    string('DeviceClass for DynamicResourceAllocation.', { default: 'gpu.nvidia.com', maxLength: 253 }),
  ),
});

export const TrainingJobSpec = object(
  'What to train, on what, and what to do with the result.',
  {
    image: string('Training container image.', { minLength: 1 }),
    command: optional(list(string('An argument.'), 'Entrypoint override.', { maxItems: 64 })),
    args: optional(list(string('An argument.'), 'Arguments to the entrypoint.', { maxItems: 256 })),
    env: optional(envList()),
    hyperparameters: optional(
      stringMap('Hyperparameters, passed to the container as the JSON object MODELOPS_HYPERPARAMETERS.', {
        maxProperties: 64,
      }),
    ),
    dataset: object('The training data.', {
      uri: string(
        'Where the data is: a path on the output volume, file://, s3://bucket/key or synthetic://fraud?rows=N&seed=S.',
        { minLength: 1 },
      ),
      version: optional(string("Dataset version, recorded in the model's lineage.", { maxLength: 128 })),
    }),
    output: object(
      'Where the model artifact goes.',
      {
        uri: string('pvc://CLAIM/PATH (mounted at /output) or s3://BUCKET/PREFIX.', {
          pattern: '^(pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/.*)?|s3://[a-z0-9][-a-z0-9.]*(/.*)?)$',
        }),
        credentialsSecret: optional(LocalObjectReference),
      },
      cel({
        rule: '!self.uri.startsWith("s3://") || has(self.credentialsSecret)',
        message: 'an s3:// output needs credentialsSecret (a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
        fieldPath: '.credentialsSecret',
      }),
    ),
    gpus: optional(GpuSpec),
    resources: optional(
      object('CPU and memory per node.', {
        cpu: optional(quantity('CPU request and limit, e.g. 4 or 3500m.')),
        memory: optional(quantity('Memory request and limit, e.g. 32Gi.')),
      }),
    ),
    nodes: optional(
      integer("Nodes to train on; more than one runs an Indexed Job with torchrun's environment.", {
        minimum: 1,
        maximum: 64,
        default: 1,
      }),
    ),
    runPolicy: optional(
      object('How the Job runs.', {
        backoffLimit: optional(integer('Retries before the run is failed.', { minimum: 0, maximum: 100, default: 0 })),
        activeDeadlineSeconds: optional(integer('Wall-clock limit of the run.', { minimum: 1 })),
        ttlSecondsAfterFinished: optional(
          integer('Delete the Job this long after it finishes (the TrainingJob and its status stay).', { minimum: 0 }),
        ),
        suspend: optional(boolean('Suspend the run (no pods); resume by setting false.', { default: false })),
        queueName: optional(
          string('Kueue LocalQueue; passed as the kueue.x-k8s.io/queue-name label.', { maxLength: 63 }),
        ),
      }),
    ),
    podMetadata: optional(
      object('Labels and annotations for the training pods.', {
        labels: optional(stringMap('Extra pod labels.')),
        annotations: optional(stringMap('Extra pod annotations.')),
      }),
    ),
    register: optional(RegisterSpec),
  },
  cel({
    rule: '!has(self.gpus) || self.gpus.count > 0 || !has(self.gpus.model)',
    message: 'gpus.model needs gpus.count > 0',
    fieldPath: '.gpus.model',
  }),
);
export type TrainingJobSpec = Static<typeof TrainingJobSpec>;

export const TrainingJobStatus = object('What the run did.', {
  observedGeneration: optional(observedGeneration()),
  phase: optional(
    enumOf(['Pending', 'Suspended', 'Running', 'Succeeded', 'Failed'] as const, 'Summary of the conditions.'),
  ),
  conditions: optional(conditions()),
  jobName: optional(string('The batch/v1 Job running the training.')),
  startTime: optional(string('When the Job started.', { format: 'date-time' })),
  completionTime: optional(string('When the run finished.', { format: 'date-time' })),
  gpus: optional(integer('GPUs the run uses in total (nodes × GPUs per node).')),
  metrics: optional(numberMap('Metrics the training program reported in its termination message.')),
  headlineMetric: optional(string("The gate's first metric and its value, for `kubectl get`.")),
  artifact: optional(
    object('The trained model.', {
      uri: string('Where model.onnx is.'),
      digest: optional(string('sha256 of the artifact.')),
    }),
  ),
  reference: optional(
    object('The reference distribution DriftMonitor compares against.', {
      uri: string('Where reference.json is.'),
      digest: optional(string('sha256 of the file.')),
    }),
  ),
  modelVersion: optional(string('The ModelVersion registered from this run.')),
  gateMessage: optional(string('Why the gate passed or refused.')),
});
export type TrainingJobStatus = Static<typeof TrainingJobStatus>;

export const trainingJobDefinition: CrdDefinition = {
  kind: 'TrainingJob',
  plural: 'trainingjobs',
  shortNames: ['tj'],
  spec: TrainingJobSpec,
  rules: [
    {
      // The registered ModelVersion is named <modelName>-<version> and names a Deployment and a Service.
      rule: '!has(self.spec.register) || size(self.spec.register.modelName) + 1 + size(has(self.spec.register.version) ? self.spec.register.version : self.metadata.name) <= 63',
      message:
        'register: the ModelVersion name <modelName>-<version> (version defaults to the TrainingJob name) must be at most 63 characters',
    },
  ],
  specRules: [
    {
      rule: 'self.image == oldSelf.image',
      message: 'image is immutable: create a new TrainingJob for another image',
      fieldPath: '.image',
    },
    {
      rule: 'self.dataset == oldSelf.dataset',
      message: 'dataset is immutable: create a new TrainingJob for other data',
      fieldPath: '.dataset',
    },
    {
      rule: 'self.output == oldSelf.output',
      message: 'output is immutable: create a new TrainingJob to write elsewhere',
      fieldPath: '.output',
    },
    // What the pods run is fixed once the Job exists (a Job's pod template is immutable too);
    // runPolicy (suspend, deadline, TTL, queue) and register stay editable.
    ...(['command', 'args', 'env', 'hyperparameters', 'gpus', 'resources', 'nodes', 'podMetadata'] as const).map(
      (field) =>
        immutableOptional(
          field,
          `${field} is immutable: the run's pods are fixed once created; create a new TrainingJob`,
        ),
    ),
  ],
  status: TrainingJobStatus,
  description:
    'TrainingJob runs model training on GPUs as a batch/v1 Job and can register the result as a ModelVersion.',
  printerColumns: [
    { name: 'State', type: 'string', jsonPath: '.status.phase' },
    { name: 'GPUs', type: 'integer', jsonPath: '.status.gpus' },
    { name: 'Metric', type: 'string', jsonPath: '.status.headlineMetric' },
    { name: 'Model', type: 'string', jsonPath: '.status.modelVersion', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
