// ModelVersion: one version of a model served from an ONNX artifact. A new version of a model that
// already serves rolls out as a canary: traffic moves in steps, each step analysed, then promoted
// or rolled back.
import {
  object,
  string,
  integer,
  number,
  numberMap,
  enumOf,
  quantity,
  list,
  optional,
  cel,
  type Static,
} from './schema.js';
import { conditions, observedGeneration, envList } from './common.js';
import type { CrdDefinition } from './crd.js';

export const DEFAULT_SERVING_IMAGE = 'ghcr.io/modelops/serving:0.1.0';

export const CanaryStep = object(
  'One step of the canary: send this share of traffic to the new version, then analyse.',
  {
    weight: integer('Percent of requests the canary gets in this step.', { minimum: 1, maximum: 100 }),
    pauseSeconds: optional(
      integer('How long to hold the step before its analysis decides.', { minimum: 0, maximum: 86400, default: 60 }),
    ),
  },
);

export const AnalysisSpec = object(
  "Thresholds every step is analysed against, over the step's window, from the serving pods' metrics.",
  {
    prometheusUrl: optional(
      string("Prometheus that scrapes the serving pods; defaults to the operator's --prometheus-url.", {
        pattern: '^https?://',
      }),
    ),
    minSuccessRate: optional(
      number('Lowest acceptable share of non-5xx responses.', { minimum: 0, maximum: 1, default: 0.99 }),
    ),
    maxLatencyP99Ms: optional(number('Highest acceptable p99 latency in milliseconds.', { minimum: 0, default: 100 })),
    minRequests: optional(
      integer('Requests the canary must have served in the window before a step can pass.', {
        minimum: 0,
        default: 20,
      }),
    ),
    failureLimit: optional(
      integer('Failed analyses tolerated before rolling back.', { minimum: 0, maximum: 10, default: 0 }),
    ),
  },
);

export const RolloutSpec = object('How a new version replaces the stable one.', {
  steps: optional(
    list(CanaryStep, 'Traffic steps, weights strictly increasing. After the last step the canary is promoted.', {
      minItems: 1,
      maxItems: 10,
      default: [
        { weight: 10, pauseSeconds: 60 },
        { weight: 50, pauseSeconds: 60 },
        { weight: 100, pauseSeconds: 0 },
      ],
      ...cel({
        rule: 'self.all(s, self.filter(t, t.weight == s.weight).size() == 1) && self.map(s, s.weight).isSorted()',
        message: 'canary step weights must be strictly increasing',
      }),
    }),
  ),
  analysis: optional(AnalysisSpec),
});

/** The serving part of a ModelVersion, reused by TrainingJob.spec.register.serving. */
export const ModelVersionServingSpec = object('How the version is served.', {
  image: optional(string('Serving image.', { default: DEFAULT_SERVING_IMAGE })),
  replicas: optional(integer('Serving pods.', { minimum: 1, maximum: 100, default: 1 })),
  resources: optional(
    object('CPU and memory per serving pod.', {
      cpu: optional(quantity('CPU request, e.g. 1 or 500m.')),
      memory: optional(quantity('Memory request and limit, e.g. 1Gi.')),
    }),
  ),
  env: optional(envList()),
  rollout: optional(RolloutSpec),
});

export const ModelVersionSpec = object('The model, the version and the artifact to serve.', {
  model: string('Name of the model; versions of one model share its Service and traffic.', {
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 40,
  }),
  version: string('Version of the model.', { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 40 }),
  artifact: object('The ONNX model.', {
    uri: string('Where model.onnx is: pvc://CLAIM/PATH, s3://, http(s)://.', { minLength: 1 }),
    digest: optional(
      string('sha256:HEX of the file; the serving pod refuses another.', { pattern: '^sha256:[a-f0-9]{64}$' }),
    ),
  }),
  reference: optional(
    object('Reference distribution (reference.json) for per-feature metrics and drift.', {
      uri: string('Where reference.json is.', { minLength: 1 }),
    }),
  ),
  serving: optional(ModelVersionServingSpec),
  lineage: optional(
    object('Where the model came from (set when a TrainingJob registered it).', {
      trainingJob: optional(string('Name of the TrainingJob.')),
      image: optional(string('Training image.')),
      datasetUri: optional(string('Dataset URI.')),
      datasetVersion: optional(string('Dataset version.')),
      metrics: optional(numberMap("The run's metrics.")),
    }),
  ),
});
export type ModelVersionSpec = Static<typeof ModelVersionSpec>;

export const ModelVersionStatus = object('Where the version stands.', {
  observedGeneration: optional(observedGeneration()),
  phase: optional(
    enumOf(
      ['Pending', 'Deploying', 'Canary', 'Serving', 'RolledBack', 'Superseded', 'Failed'] as const,
      'Summary of the conditions.',
    ),
  ),
  role: optional(enumOf(['stable', 'canary', 'none'] as const, "The version's role for its model.")),
  trafficWeight: optional(integer("Percent of the model's traffic this version gets.", { minimum: 0, maximum: 100 })),
  currentStep: optional(integer('Index of the canary step in progress.', { minimum: 0 })),
  stepStartedAt: optional(string('When the current step began.', { format: 'date-time' })),
  readyReplicas: optional(integer('Serving pods that are ready.', { minimum: 0 })),
  url: optional(string("In-cluster URL of the model's Open Inference Protocol endpoint.")),
  lastAnalysis: optional(
    object('The latest canary analysis.', {
      time: string('When it ran.', { format: 'date-time' }),
      successRate: optional(number('Share of non-5xx responses.')),
      latencyP99Ms: optional(number('p99 latency in ms.')),
      requests: optional(number('Requests in the window.')),
      verdict: enumOf(['Pass', 'Fail', 'Inconclusive'] as const, 'What the analysis decided.'),
      message: optional(string('Why.')),
    }),
  ),
  conditions: optional(conditions()),
});
export type ModelVersionStatus = Static<typeof ModelVersionStatus>;

export const modelVersionDefinition: CrdDefinition = {
  kind: 'ModelVersion',
  plural: 'modelversions',
  shortNames: ['mv'],
  spec: ModelVersionSpec,
  specRules: [
    { rule: 'self.model == oldSelf.model', message: 'model is immutable', fieldPath: '.model' },
    {
      rule: 'self.version == oldSelf.version',
      message: 'version is immutable: create a new ModelVersion for a new version',
      fieldPath: '.version',
    },
    {
      rule: 'self.artifact == oldSelf.artifact',
      message: 'artifact is immutable: a new artifact is a new version',
      fieldPath: '.artifact',
    },
  ],
  status: ModelVersionStatus,
  description: 'ModelVersion serves one version of a model and rolls it out as a canary when the model already serves.',
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model' },
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
    { name: 'State', type: 'string', jsonPath: '.status.phase' },
    { name: 'Role', type: 'string', jsonPath: '.status.role' },
    { name: 'Traffic', type: 'integer', jsonPath: '.status.trafficWeight' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
