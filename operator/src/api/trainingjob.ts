// TrainingJob: one training run on GPUs, as a batch/v1 Job, and an optional gate that registers the
// result as a ModelVersion. What the API server would refuse in the Job, Service or ModelVersion
// the run creates is refused here, at `kubectl apply`, with a message that says what to change.
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
import {
  conditions,
  observedGeneration,
  envList,
  LocalObjectReference,
  modelName,
  modelVersion,
  labelValue,
  labelMap,
  annotationMap,
  imageReference,
  uri,
  VERSION_MAX,
} from './common.js';
import { ModelVersionServingSpec } from './modelversion.js';
import type { CrdDefinition } from './crd.js';

/** The Job takes the TrainingJob's name and so does the pods' label: a label value is at most 63 characters. */
const NAME_MAX = 63;
/** A multi-node run's headless Service is `<name>-workers`, a DNS-1035 label of at most 63 characters. */
const MULTI_NODE_NAME_MAX = NAME_MAX - '-workers'.length;

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
  modelName: modelName("Name of the model the new version belongs to (the ModelVersion's spec.model)."),
  version: optional(
    modelVersion(
      `Version to register; defaults to the TrainingJob's name (which then must be at most ${VERSION_MAX} characters). The ModelVersion is named <modelName>-<version>.`,
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

const GpuSpec = object(
  'The GPUs each node of the run gets. Omitted, a run gets one GPU per node through the device plugin; set count: 0 for a CPU-only run.',
  {
    count: optional(integer('GPUs per node (0: none, a CPU-only run).', { minimum: 0, maximum: 16, default: 1 })),
    model: optional(
      labelValue(
        'GPU model, as NVIDIA GPU feature discovery labels nodes (nvidia.com/gpu.product), e.g. NVIDIA-H100-80GB-HBM3.',
      ),
    ),
    allocation: optional(
      enumOf(
        ['DevicePlugin', 'DynamicResourceAllocation'] as const,
        "DevicePlugin requests the nvidia.com/gpu extended resource (NVIDIA's device plugin); DynamicResourceAllocation creates a ResourceClaimTemplate against the gpu.nvidia.com DeviceClass (NVIDIA's DRA driver; the cluster must serve resource.k8s.io/v1, Kubernetes 1.34+).",
        { default: 'DevicePlugin' },
      ),
    ),
    deviceClassName: optional(
      string('DeviceClass for DynamicResourceAllocation.', {
        default: 'gpu.nvidia.com',
        maxLength: 253,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      }),
    ),
  },
  { default: {} },
);

export const TrainingJobSpec = object(
  'What to train, on what, and what to do with the result.',
  {
    image: imageReference('Training container image.'),
    command: optional(list(string('An argument.', { maxLength: 4096 }), 'Entrypoint override.', { maxItems: 64 })),
    args: optional(
      list(string('An argument.', { maxLength: 4096 }), 'Arguments to the entrypoint.', { maxItems: 256 }),
    ),
    env: optional(envList()),
    hyperparameters: optional(
      stringMap('Hyperparameters, passed to the container as the JSON object MODELOPS_HYPERPARAMETERS.', {
        maxProperties: 64,
        maxValueLength: 1024,
        ...cel({
          rule: "self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_.-]{0,62}$'))",
          message: 'hyperparameter names are at most 63 characters of [A-Za-z0-9_.-], starting with a letter or _',
        }),
      }),
    ),
    dataset: object('The training data.', {
      uri: uri(
        'Where the data is: an absolute path in the container (e.g. on the output volume, /output/...), file:///path, s3://bucket/key, gs://bucket/key, http(s)://... or synthetic://fraud?rows=N&seed=S. The training program reads it.',
        ['/', 'file', 's3', 'gs', 'http', 'https', 'synthetic'],
      ),
      version: optional(string("Dataset version, recorded in the model's lineage.", { maxLength: 128 })),
    }),
    output: object(
      'Where the model artifact goes.',
      {
        uri: string('pvc://CLAIM/PATH (the claim is mounted at /output) or s3://BUCKET/PREFIX.', {
          maxLength: 1024,
          pattern: '^(pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[^\\s]*)?|s3://[a-z0-9][-a-z0-9.]*(/[^\\s]*)?)$',
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
      integer(
        `Nodes to train on; more than one runs an Indexed Job with torchrun's environment (the TrainingJob's name then is at most ${MULTI_NODE_NAME_MAX} characters, starting with a letter, without dots: its workers' Service is <name>-workers).`,
        { minimum: 1, maximum: 64, default: 1 },
      ),
    ),
    runPolicy: optional(
      object('How the Job runs.', {
        backoffLimit: optional(integer('Retries before the run is failed.', { minimum: 0, maximum: 100, default: 0 })),
        activeDeadlineSeconds: optional(integer('Wall-clock limit of the run.', { minimum: 1 })),
        ttlSecondsAfterFinished: optional(
          integer(
            "Delete the Job and its pods this long after the run's outcome was recorded (the TrainingJob and its status stay).",
            { minimum: 0 },
          ),
        ),
        suspend: optional(boolean('Suspend the run (no pods); resume by setting false.', { default: false })),
        queueName: optional(labelValue('Kueue LocalQueue; passed as the kueue.x-k8s.io/queue-name label.')),
      }),
    ),
    podMetadata: optional(
      object("Labels and annotations for the training pods (the operator's own labels take precedence).", {
        labels: optional(labelMap('Extra pod labels.')),
        annotations: optional(annotationMap('Extra pod annotations.')),
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
    enumOf(
      ['Pending', 'Suspended', 'Running', 'Succeeded', 'Failed'] as const,
      'Summary of the conditions. Pending → Running → Succeeded or Failed (Suspended in between while suspended); it never goes back, and Succeeded and Failed are final.',
    ),
  ),
  conditions: optional(
    conditions(
      'The latest observations. Wait for Finished (the run is over either way and its outcome recorded), Succeeded (it trained and reported) or Failed; Ready is True once a run succeeded and its registration, if asked for, was decided.',
    ),
  ),
  jobName: optional(string('The batch/v1 Job running the training.', { maxLength: 253 })),
  startTime: optional(string('When the Job started.', { format: 'date-time' })),
  completionTime: optional(string('When the run finished.', { format: 'date-time' })),
  gpus: optional(integer('GPUs the run uses in total (nodes × GPUs per node).')),
  metrics: optional(
    numberMap('Metrics the training program reported in its termination message.', { maxProperties: 256 }),
  ),
  headlineMetric: optional(string("The gate's first metric and its value, for `kubectl get`.", { maxLength: 128 })),
  artifact: optional(
    object('The trained model.', {
      uri: string('Where model.onnx is: pvc://CLAIM/PATH or s3://... (the URI the ModelVersion serves from).', {
        maxLength: 2048,
      }),
      digest: optional(string('sha256 of the artifact.', { maxLength: 128 })),
    }),
  ),
  reference: optional(
    object('The reference distribution DriftMonitor compares against.', {
      uri: string('Where reference.json is (pvc:// or s3://).', { maxLength: 2048 }),
      digest: optional(string('sha256 of the file.', { maxLength: 128 })),
    }),
  ),
  modelVersion: optional(string('The ModelVersion registered from this run.', { maxLength: 253 })),
  gateMessage: optional(string('Why the gate passed or refused.', { maxLength: 4096 })),
});
export type TrainingJobStatus = Static<typeof TrainingJobStatus>;

export const trainingJobDefinition: CrdDefinition = {
  kind: 'TrainingJob',
  plural: 'trainingjobs',
  shortNames: ['tj'],
  spec: TrainingJobSpec,
  rootRules: [
    {
      rule: `size(self.metadata.name) <= ${NAME_MAX}`,
      message: `a TrainingJob's name is at most ${NAME_MAX} characters: its Job and its pods' labels take the name`,
    },
    {
      rule: `!has(self.spec.nodes) || self.spec.nodes <= 1 || (size(self.metadata.name) <= ${MULTI_NODE_NAME_MAX} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))`,
      message: `a multi-node TrainingJob's name is at most ${MULTI_NODE_NAME_MAX} characters, starts with a letter and has no dots: its workers' Service is <name>-workers`,
    },
    {
      rule: `!has(self.spec.register) || has(self.spec.register.version) || size(self.metadata.name) <= ${VERSION_MAX}`,
      message: `without spec.register.version the TrainingJob's name is the registered version, and a version is at most ${VERSION_MAX} characters: set spec.register.version`,
    },
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
