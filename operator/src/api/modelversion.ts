// ModelVersion: one version of a model served from an ONNX artifact. A new version of a model that
// already serves rolls out as a canary: traffic moves in steps, each step analysed, then promoted or
// rolled back. The controller's design: operator/src/controllers/modelversion/README.md.
import {
  object,
  string,
  integer,
  number,
  boolean,
  numberMap,
  enumOf,
  quantity,
  list,
  optional,
  cel,
  type CelRule,
  type Static,
} from './schema.js';
import {
  conditions,
  observedGeneration,
  envList,
  LocalObjectReference,
  DNS1035_LABEL,
  modelName,
  modelVersion,
  prometheusUrl,
} from './common.js';
import type { CrdDefinition } from './crd.js';

export const DEFAULT_SERVING_IMAGE = 'ghcr.io/modelops/serving:0.1.0';

/** The schemes an artifact or reference may come from, as the serving image fetches them. */
const URI_RULE = (field: string): CelRule => ({
  rule: "self.matches('^(pvc://[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[^\\\\s]+|s3://[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]/[^\\\\s]+|https?://[^\\\\s/]+/[^\\\\s]*)$')",
  message: `${field} must be pvc://CLAIM/PATH, s3://BUCKET/KEY or http(s)://HOST/PATH`,
});

const uri = (description: string, field: string) =>
  string(description, { minLength: 1, maxLength: 2048, ...cel(URI_RULE(field)) });

/** Defaults of the rollout, in one place: the schema's `default`s and the controller's fallbacks. */
export const ROLLOUT_DEFAULTS = {
  pauseSeconds: 60,
  scaleDownDelaySeconds: 30,
  analysis: {
    intervalSeconds: 30,
    windowSeconds: 60,
    failureLimit: 2,
    minSamples: 50,
    metricsUnavailableRollbackSeconds: 300,
    errorRate: { max: 0.01, maxRatioToStable: 2, noiseFloor: 0.005 },
    latencyP99: { maxMs: 500, maxRatioToStable: 2, noiseFloorMs: 50 },
    predictionShift: { method: 'PSI' as 'PSI' | 'JS', max: 0.25, minSamples: 200, enabled: true },
  },
} as const;
const A = ROLLOUT_DEFAULTS.analysis;

export const DEFAULT_STEPS = [
  { weight: 5, pauseSeconds: 60 },
  { weight: 25, pauseSeconds: 60 },
  { weight: 50, pauseSeconds: 60 },
  { weight: 100, pauseSeconds: 60 },
];

export const CanaryStep = object('One step of the canary: send this share of the traffic to it, hold, analyse.', {
  weight: integer('Percent of the model’s requests the canary gets in this step.', { minimum: 1, maximum: 100 }),
  pauseSeconds: optional(
    integer(
      'How long the step holds once its split is in place; it advances after that when the latest analysis passed.',
      { minimum: 0, maximum: 86400, default: ROLLOUT_DEFAULTS.pauseSeconds },
    ),
  ),
});

const relativeBound = (what: string, defaultRatio: number) =>
  optional(
    number(`Fail when the canary's ${what} exceeds this multiple of the stable's over the same window.`, {
      minimum: 1,
      maximum: 1000,
      default: defaultRatio,
    }),
  );

export const AnalysisSpec = object(
  "How every step is analysed: every intervalSeconds, over the last windowSeconds, from the serving pods' metrics in Prometheus.",
  {
    prometheusUrl: optional(prometheusUrl()),
    intervalSeconds: optional(
      integer('How often the checks run during a step.', { minimum: 1, maximum: 3600, default: A.intervalSeconds }),
    ),
    windowSeconds: optional(
      integer('How much recent traffic each analysis looks at.', {
        minimum: 5,
        maximum: 86400,
        default: A.windowSeconds,
      }),
    ),
    failureLimit: optional(
      integer('Consecutive failed analyses that roll the canary back (1: the first failure does).', {
        minimum: 1,
        maximum: 100,
        default: A.failureLimit,
      }),
    ),
    minSamples: optional(
      integer(
        'Requests the canary must have served in the window before any check can pass or fail; fewer is Inconclusive.',
        { minimum: 1, maximum: 1000000, default: A.minSamples },
      ),
    ),
    metricsUnavailableRollbackSeconds: optional(
      integer(
        'While Prometheus is unreachable or a query errors the weights hold; past this long the canary is rolled back.',
        { minimum: 10, maximum: 86400, default: A.metricsUnavailableRollbackSeconds },
      ),
    ),
    errorRate: optional(
      object('Share of inference requests answered 5xx.', {
        max: optional(number('Fail above this share.', { minimum: 0, maximum: 1, default: A.errorRate.max })),
        maxRatioToStable: relativeBound('error rate', A.errorRate.maxRatioToStable),
        noiseFloor: optional(
          number(
            'The stable’s rate is taken as at least this in the relative check, so one error is not "infinitely worse".',
            {
              minimum: 0,
              maximum: 1,
              default: A.errorRate.noiseFloor,
            },
          ),
        ),
      }),
    ),
    latencyP99: optional(
      object('99th percentile of inference latency.', {
        maxMs: optional(
          number('Fail above this many milliseconds.', { minimum: 0, maximum: 600000, default: A.latencyP99.maxMs }),
        ),
        maxRatioToStable: relativeBound('p99 latency', A.latencyP99.maxRatioToStable),
        noiseFloorMs: optional(
          number('The stable’s p99 is taken as at least this in the relative check.', {
            minimum: 0,
            maximum: 600000,
            default: A.latencyP99.noiseFloorMs,
          }),
        ),
      }),
    ),
    predictionShift: optional(
      object(
        "Distance between the canary's and the stable's prediction-score distributions (modelops_prediction_score histograms). Skipped when the versions export none (no reference loaded).",
        {
          method: optional(
            enumOf(['PSI', 'JS'] as const, 'PSI or Jensen-Shannon distance (base 2).', {
              default: A.predictionShift.method,
            }),
          ),
          max: optional(
            number('Fail above this distance.', { minimum: 0, maximum: 100, default: A.predictionShift.max }),
          ),
          minSamples: optional(
            integer('Scores each version must have in the window before the check can pass or fail.', {
              minimum: 1,
              maximum: 1000000,
              default: A.predictionShift.minSamples,
            }),
          ),
          enabled: optional(boolean('Whether the check runs.', { default: A.predictionShift.enabled })),
        },
      ),
    ),
    queries: optional(
      list(
        object(
          'A PromQL check. ${model}, ${version}, ${stableVersion}, ${namespace} and ${window} are replaced before it runs; it must return one number.',
          {
            name: string('Name of the check, shown in status and Events.', {
              minLength: 1,
              maxLength: 63,
              pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
            }),
            query: string('The PromQL expression.', { minLength: 1, maxLength: 4096 }),
            max: optional(number('Fail when the value is above this.')),
            min: optional(number('Fail when the value is below this.')),
          },
          cel({ rule: 'has(self.max) || has(self.min)', message: 'a query check needs max, min or both' }),
        ),
        'User PromQL checks; no data is Inconclusive.',
        {
          maxItems: 16,
          ...cel({
            rule: 'self.all(q, self.filter(r, r.name == q.name).size() == 1)',
            message: 'query check names must be unique',
          }),
        },
      ),
    ),
  },
);
export type AnalysisSpec = Static<typeof AnalysisSpec>;

export const ExperimentSpec = object(
  'A/B without promotion: the version stays the canary at a fixed weight, or is reached only by requests carrying a header. Analysis still runs and can roll it back; modelops.dev/promote ends the experiment.',
  {
    weight: optional(integer('Percent of the traffic it keeps indefinitely.', { minimum: 1, maximum: 99 })),
    header: optional(
      object(
        'Only requests with this header reach it (a header match in the operator-owned HTTPRoute; needs traffic.gatewayAPI.parentRefs).',
        {
          name: string('Header name.', { minLength: 1, maxLength: 256, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" }),
          value: string('Exact header value.', { minLength: 1, maxLength: 4096 }),
        },
      ),
    ),
  },
  cel({ rule: 'has(self.weight) != has(self.header)', message: 'an experiment has either weight or header' }),
);

export const RolloutSpec = object('How this version replaces the stable one when the model already serves.', {
  steps: optional(
    list(CanaryStep, 'Traffic steps, weights strictly increasing, the last at 100. After it the canary is promoted.', {
      minItems: 1,
      maxItems: 20,
      default: DEFAULT_STEPS,
      ...cel(
        {
          rule: 'self.all(s, self.filter(t, t.weight == s.weight).size() == 1) && self.map(s, s.weight).isSorted()',
          message: 'canary step weights must be strictly increasing',
        },
        {
          rule: 'self[size(self) - 1].weight == 100',
          message:
            'the last canary step must be weight 100: a canary is promoted only after it has taken all the traffic',
        },
      ),
    }),
  ),
  paused: optional(
    boolean('Hold the canary at its current step (analysis and rollback continue).', { default: false }),
  ),
  experiment: optional(ExperimentSpec),
  scaleDownDelaySeconds: optional(
    integer('How long the replaced stable keeps its pods after a promotion.', {
      minimum: 0,
      maximum: 86400,
      default: ROLLOUT_DEFAULTS.scaleDownDelaySeconds,
    }),
  ),
  analysis: optional(AnalysisSpec),
});

const ParentReference = object('A Gateway (or listener) the HTTPRoute attaches to, as in Gateway API.', {
  name: string('Name of the Gateway.', { minLength: 1, maxLength: 253 }),
  namespace: optional(string('Namespace of the Gateway; the ModelVersion’s by default.', { maxLength: 63 })),
  sectionName: optional(string('Listener name.', { maxLength: 253 })),
  group: optional(string('API group of the parent.', { maxLength: 253, default: 'gateway.networking.k8s.io' })),
  kind: optional(string('Kind of the parent.', { maxLength: 63, default: 'Gateway' })),
});

export const TrafficSpec = object(
  'How the model’s traffic is split between its versions. Without gatewayAPI: by replica ratio behind the model’s Service.',
  {
    gatewayAPI: optional(
      object(
        'Split by a Gateway API HTTPRoute’s backend weights: a route the operator owns (parentRefs) or an existing one (httpRoute).',
        {
          parentRefs: optional(
            list(ParentReference, 'Gateways the operator-owned HTTPRoute <model> attaches to.', {
              minItems: 1,
              maxItems: 32,
            }),
          ),
          hostnames: optional(
            list(string('A hostname.', { maxLength: 253 }), 'Hostnames of the operator-owned route.', {
              maxItems: 16,
            }),
          ),
          httpRoute: optional(
            string(
              "An existing HTTPRoute in the namespace whose rules pointing at the model's Services the operator takes over.",
              { maxLength: 253 },
            ),
          ),
        },
        cel(
          {
            rule: 'has(self.parentRefs) != has(self.httpRoute)',
            message:
              'gatewayAPI needs either parentRefs (the operator creates the route) or httpRoute (an existing one)',
          },
          { rule: '!has(self.hostnames) || has(self.parentRefs)', message: 'hostnames go with parentRefs' },
        ),
      ),
    ),
  },
);

const Autoscaling = object(
  'A HorizontalPodAutoscaler for the version while it is stable (a canary is sized by its step instead).',
  {
    minReplicas: optional(integer('Fewest pods.', { minimum: 1, maximum: 1000, default: 1 })),
    maxReplicas: integer('Most pods.', { minimum: 1, maximum: 1000 }),
    targetCPUUtilizationPercentage: optional(
      integer('Average CPU utilisation to aim for, in percent of the request.', {
        minimum: 1,
        maximum: 100,
        default: 70,
      }),
    ),
  },
  cel({
    rule: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas',
    message: 'minReplicas must not exceed maxReplicas',
  }),
);

/** The serving part of a ModelVersion, reused by TrainingJob.spec.register.serving. */
export const ModelVersionServingSpec = object(
  'How the version is served and rolled out.',
  {
    image: optional(
      string("Serving image; the operator's --serving-image by default.", { minLength: 1, maxLength: 512 }),
    ),
    replicas: optional(
      integer('Serving pods (while stable, unless autoscaling).', { minimum: 1, maximum: 100, default: 1 }),
    ),
    autoscaling: optional(Autoscaling),
    resources: optional(
      object('CPU and memory per serving pod.', {
        cpu: optional(quantity('CPU request, e.g. 1 or 500m.')),
        cpuLimit: optional(quantity('CPU limit; none by default.')),
        memory: optional(quantity('Memory request and limit, e.g. 1Gi.')),
      }),
    ),
    env: optional(envList()),
    workers: optional(
      integer(
        "Serving processes per pod sharing its port (the serving image's WORKERS); by default one per whole core of the CPU limit.",
        { minimum: 1, maximum: 64 },
      ),
    ),
    apiKeySecret: optional(
      object(
        "A Secret key holding the bearer token inference and metadata requests must carry (the serving image's API_KEY); probes and /metrics stay open.",
        {
          name: string('Name of the Secret.', { minLength: 1, maxLength: 253 }),
          key: optional(string('Key in the Secret.', { minLength: 1, maxLength: 253, default: 'token' })),
        },
      ),
    ),
    traffic: optional(TrafficSpec),
    rollout: optional(RolloutSpec),
  },
  cel({
    rule: '!has(self.rollout) || !has(self.rollout.experiment) || !has(self.rollout.experiment.header) || (has(self.traffic) && has(self.traffic.gatewayAPI) && has(self.traffic.gatewayAPI.parentRefs))',
    message:
      'an experiment by header needs traffic.gatewayAPI.parentRefs: the operator adds the header match to the route it owns (replica ratio cannot match headers)',
    fieldPath: '.rollout.experiment.header',
  }),
);
export type ModelVersionServingSpec = Static<typeof ModelVersionServingSpec>;

export const ModelVersionSpec = object('The model, the version and the artifact to serve.', {
  model: modelName(
    "Name of the model; its versions share the model's Service (named after it, so a DNS-1035 label) and traffic.",
  ),
  version: modelVersion('Version of the model (the serving metrics’ version label).'),
  artifact: object('The ONNX model.', {
    uri: uri('Where model.onnx is: pvc://CLAIM/PATH, s3://BUCKET/KEY or http(s)://.', 'artifact.uri'),
    digest: optional(
      string(
        'sha256:HEX of the file, as the training run reported it (lineage; the serving image does not verify it).',
        { pattern: '^sha256:[a-f0-9]{64}$' },
      ),
    ),
    credentialsSecret: optional(
      object(
        'A Secret whose keys become the serving container’s environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...).',
        LocalObjectReference.properties,
      ),
    ),
  }),
  reference: optional(
    object('Reference distribution (reference.json) for per-feature metrics, drift and the prediction-shift check.', {
      uri: uri('Where reference.json is: pvc://CLAIM/PATH, s3://BUCKET/KEY or http(s)://.', 'reference.uri'),
    }),
  ),
  serving: optional(ModelVersionServingSpec),
  lineage: optional(
    object('Where the model came from (set when a TrainingJob registered it).', {
      trainingJob: optional(string('Name of the TrainingJob.', { maxLength: 253 })),
      image: optional(string('Training image.', { maxLength: 512 })),
      datasetUri: optional(string('Dataset URI.', { maxLength: 2048 })),
      datasetVersion: optional(string('Dataset version.', { maxLength: 128 })),
      metrics: optional(numberMap("The run's metrics.", { maxProperties: 64 })),
    }),
  ),
});
export type ModelVersionSpec = Static<typeof ModelVersionSpec>;

const PHASES = [
  'Pending',
  'Deploying',
  'Serving',
  'Canary',
  'Paused',
  'Experiment',
  'RolledBack',
  'Superseded',
  'Retired',
  'Failed',
] as const;
export type ModelVersionPhase = (typeof PHASES)[number];
export const ROLES = ['stable', 'canary', 'none'] as const;
export type Role = (typeof ROLES)[number];
export const VERDICTS = ['Pass', 'Fail', 'Inconclusive', 'Skipped', 'Error'] as const;
export type Verdict = (typeof VERDICTS)[number];

const versionRef = (what: string) =>
  object(what, {
    name: string('The ModelVersion.', { maxLength: 63 }),
    version: string('Its spec.version.', { maxLength: 63 }),
    weight: integer('Percent of the model’s traffic it should get.', { minimum: 0, maximum: 100 }),
  });

export const CheckResult = object('One check of the latest analysis.', {
  name: string('The check.', { maxLength: 80 }),
  verdict: enumOf(VERDICTS, 'Pass, Fail, Inconclusive (not enough data), Skipped (not applicable) or Error.'),
  value: optional(number("The canary's value.")),
  stableValue: optional(number("The stable's value over the same window, for relative checks.")),
  threshold: optional(number('The bound the value was held against.')),
  message: string('The value against its threshold, in words.', { maxLength: 1024 }),
});
export type CheckResult = Static<typeof CheckResult>;

export const ModelVersionStatus = object('Where the version stands.', {
  observedGeneration: optional(observedGeneration()),
  phase: optional(enumOf(PHASES, 'Summary of the conditions; see the controller README for each phase.')),
  role: optional(enumOf(ROLES, "The version's role for its model.")),
  weight: optional(
    integer('Percent of the model’s traffic this version should get now.', { minimum: 0, maximum: 100 }),
  ),
  replicas: optional(integer('Serving pods it should have now.', { minimum: 0 })),
  readyReplicas: optional(integer('Serving pods that are ready.', { minimum: 0 })),
  url: optional(string("In-cluster URL of the model's Open Inference Protocol endpoint.", { maxLength: 512 })),
  traffic: optional(
    object('The model’s split, as seen by this version’s last reconcile (stable and canary only).', {
      mechanism: enumOf(['ReplicaRatio', 'GatewayAPI'] as const, 'How the split is made.'),
      stable: optional(versionRef('The stable version.')),
      canary: optional(versionRef('The canary.')),
      actualCanaryWeight: optional(
        number('Percent of traffic the canary actually gets: the route’s weight, or its share of ready pods.', {
          minimum: 0,
          maximum: 100,
        }),
      ),
      route: optional(string('The HTTPRoute carrying the split, under Gateway API.', { maxLength: 253 })),
    }),
  ),
  rollout: optional(
    object('The canary rollout of this version.', {
      candidateSince: optional(string('When it became a candidate (creation or last retry).', { format: 'date-time' })),
      step: optional(integer('Index of the current step (0-based).', { minimum: 0 })),
      steps: optional(integer('Number of steps.', { minimum: 0 })),
      stepReachedAt: optional(string("When the current step's split was in place.", { format: 'date-time' })),
      stepVerdict: optional(
        enumOf(VERDICTS, 'The latest analysis that ran while the current step was in place; Pass lets it advance.'),
      ),
      consecutiveFailures: optional(integer('Failed analyses in a row.', { minimum: 0 })),
      metricsUnavailableSince: optional(
        string('Since when Prometheus has been unreachable or erroring.', { format: 'date-time' }),
      ),
      promotedAt: optional(string('When it became stable.', { format: 'date-time' })),
      rolledBackAt: optional(string('When it was rolled back.', { format: 'date-time' })),
      retiredAt: optional(string('When a promotion replaced it as stable.', { format: 'date-time' })),
      drainUntil: optional(
        string(
          'Until when its pods outlive its traffic (rolled back, superseded or deleted): routing changes take a moment to reach every proxy.',
          { format: 'date-time' },
        ),
      ),
      previousStable: optional(string('The stable version it replaced (lineage).', { maxLength: 63 })),
      replacedBy: optional(string('The version that superseded or replaced it.', { maxLength: 63 })),
    }),
  ),
  analysis: optional(
    object('The latest canary analysis.', {
      time: string('When it ran.', { format: 'date-time' }),
      verdict: enumOf(VERDICTS, 'What it decided.'),
      windowSeconds: integer('The window it looked at.', { minimum: 0 }),
      message: string('Why, in words.', { maxLength: 4096 }),
      checks: list(CheckResult, 'Every check with its value and threshold.', { maxItems: 32 }),
    }),
  ),
  worstCaseDetectionSeconds: optional(
    integer('intervalSeconds × failureLimit + windowSeconds: how long a breach can go unseen.', { minimum: 0 }),
  ),
  handledActions: optional(
    object('The last value of each action annotation acted on (modelops.dev/promote, abort, retry).', {
      promote: optional(string('Last modelops.dev/promote value handled.', { maxLength: 1024 })),
      abort: optional(string('Last modelops.dev/abort value handled.', { maxLength: 1024 })),
      retry: optional(string('Last modelops.dev/retry value handled.', { maxLength: 1024 })),
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
  rootRules: [
    {
      rule: `self.metadata.name.size() <= 63 && self.metadata.name.matches('${DNS1035_LABEL}')`,
      message:
        'metadata.name must be a DNS-1035 label of at most 63 characters (lower case, starting with a letter): it names the version’s Deployment and Service',
    },
    {
      rule: 'self.metadata.name != self.spec.model',
      message: "metadata.name must differ from spec.model: the model's own Service takes that name",
    },
  ],
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
    { name: 'Role', type: 'string', jsonPath: '.status.role' },
    { name: 'Weight', type: 'integer', jsonPath: '.status.weight' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Step', type: 'integer', jsonPath: '.status.rollout.step', priority: 1 },
    { name: 'Verdict', type: 'string', jsonPath: '.status.analysis.verdict', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
