// DriftMonitor: compares the live feature and prediction-score distributions of a model's serving pods
// with the distributions the model was trained on, every interval, and acts when they drift apart.
import { object, string, integer, number, boolean, enumOf, list, optional, cel, type Static } from './schema.js';
import { conditions, modelName, modelVersion, observedGeneration, prometheusUrl } from './common.js';
import { TrainingJobSpec } from './trainingjob.js';
import type { CrdDefinition } from './crd.js';

export const DRIFT_METHODS = ['PSI', 'KS', 'JS', 'ChiSquare'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];
export const SEVERITIES = ['None', 'Warning', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const featureName = () =>
  string('A feature name from the reference (training-image/reference.schema.json).', {
    pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$',
    maxLength: 128,
  });

export const DriftTest = object(
  'One statistical test applied to every monitored feature and to the prediction score.',
  {
    method: enumOf(
      DRIFT_METHODS,
      'PSI: population stability index (default thresholds 0.1 / 0.25). KS: Kolmogorov-Smirnov statistic on the binned distributions, the largest gap between the binned CDFs, a lower bound of the continuous statistic (0.1 / 0.2). JS: Jensen-Shannon distance, base 2, in [0, 1] (0.1 / 0.2). ChiSquare: the p-value of the chi-square test of homogeneity over the bins; lower is worse (0.05 / 0.01); with large windows it flags even tiny shifts.',
    ),
    warning: optional(
      number('Score at which a feature is reported as drifting; for ChiSquare the p-value at or below which.', {
        minimum: 0,
      }),
    ),
    critical: optional(
      number('Score at which a feature counts as drifted (a breach); for ChiSquare the p-value at or below which.', {
        minimum: 0,
      }),
    ),
  },
  cel(
    {
      rule: "!has(self.warning) || !has(self.critical) || (self.method == 'ChiSquare' ? self.warning > self.critical : self.warning < self.critical)",
      message:
        'warning must come before critical: lower than critical, or for ChiSquare (a p-value) higher than critical',
      fieldPath: '.warning',
    },
    {
      rule: "self.method == 'PSI' || ((!has(self.warning) || self.warning <= 1.0) && (!has(self.critical) || self.critical <= 1.0))",
      message: 'KS, JS and ChiSquare thresholds lie in [0, 1]',
    },
  ),
);
export type DriftTest = Static<typeof DriftTest>;

export const RetrainAction = object(
  'On a breach, start a TrainingJob from this template. One at a time, after a cooldown, at most maxPerDay a day.',
  {
    template: TrainingJobSpec,
    cooldownSeconds: optional(
      integer('Minimum time between the starts of two retraining runs.', {
        minimum: 0,
        maximum: 2592000,
        default: 86400,
      }),
    ),
    maxPerDay: optional(
      integer('Most retraining runs started in any 24 hours.', { minimum: 1, maximum: 10, default: 1 }),
    ),
  },
  cel(
    {
      rule: 'has(self.template.register)',
      message: 'the retraining template must register its result (template.register) so the new version can roll out',
      fieldPath: '.template.register',
    },
    {
      rule: '!has(self.template.register) || has(self.template.register.mustBeatStable) || (has(self.template.register.gate) && size(self.template.register.gate) > 0)',
      message:
        'the retraining template must gate registration (register.mustBeatStable, or a gate whose first metric the run must then beat the stable version on)',
      fieldPath: '.template.register',
    },
    {
      rule: '!has(self.template.register) || !has(self.template.register.version)',
      message:
        "template.register.version must be unset: every retraining run registers its own version (the run's name)",
      fieldPath: '.template.register.version',
    },
  ),
);

export const DriftMonitorSpec = object(
  'What to watch, how to judge it, and what to do when it drifts.',
  {
    model: modelName('The model (ModelVersion spec.model) whose serving pods are compared.'),
    versions: optional(
      enumOf(
        ['Stable', 'Canary', 'Both'] as const,
        "Which versions' live traffic to judge: the stable version, the canary of a rollout in progress, or both. Each is judged separately.",
        { default: 'Stable' },
      ),
    ),
    reference: optional(
      object(
        "The training distribution to compare with. By default each watched version's own reference, as its serving pods export it (modelops_reference_* gauges in Prometheus): what that version was trained on.",
        {
          uri: string('A reference.json (training-image/reference.schema.json) to use for every version instead.', {
            pattern: '^https?://',
            maxLength: 2048,
          }),
        },
      ),
    ),
    prometheusUrl: optional(prometheusUrl()),
    intervalSeconds: optional(integer('How often to evaluate.', { minimum: 10, maximum: 86400, default: 300 })),
    windowSeconds: optional(
      integer('How much recent traffic each evaluation looks at; at least intervalSeconds.', {
        minimum: 10,
        maximum: 604800,
        default: 3600,
      }),
    ),
    minSamples: optional(
      integer(
        'Predictions a version must have served in the window before it is judged; below, the status says NotEnoughData, never no drift.',
        { minimum: 1, maximum: 1000000000, default: 500 },
      ),
    ),
    features: optional(
      list(featureName(), "Features to monitor; all the reference's features by default.", {
        maxItems: 256,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    prediction: optional(
      boolean('Also compare the distribution of the predicted positive-class score; its breach alone is a breach.', {
        default: true,
      }),
    ),
    tests: optional(
      list(DriftTest, 'Tests to run; a feature takes the worst severity of its tests.', {
        minItems: 1,
        maxItems: 4,
        default: [{ method: 'PSI' }],
        ...cel({
          rule: 'self.all(t, self.filter(u, u.method == t.method).size() == 1)',
          message: 'each method may appear once in tests',
        }),
      }),
    ),
    driftedShare: optional(
      number(
        'Share of monitored features that must be critical for the model to be in breach (a critical prediction score is a breach by itself).',
        {
          minimum: 0.01,
          maximum: 1,
          default: 0.5,
          // The apiserver lets an integer 0 through `minimum` on a number field; CEL does not.
          ...cel({ rule: 'self > 0.0', message: 'driftedShare must be above 0' }),
        },
      ),
    ),
    actions: optional(
      object(
        'What to do on a breach, besides the Drifted condition, the Warning Event and the modelops_drift_score gauge that always follow. Without actions the monitor only alerts.',
        {
          retrain: optional(RetrainAction),
          rollbackCanary: optional(
            boolean(
              "Roll back a canary rollout in progress when the canary is in breach (annotates it modelops.dev/abort, the ModelVersion's one rollback path). Needs versions Canary or Both.",
              { default: false },
            ),
          ),
        },
      ),
    ),
  },
  cel(
    {
      rule: '(has(self.windowSeconds) ? self.windowSeconds : 3600) >= (has(self.intervalSeconds) ? self.intervalSeconds : 300)',
      message: 'windowSeconds must be at least intervalSeconds: every evaluation must see all traffic since the last',
      fieldPath: '.windowSeconds',
    },
    {
      rule: "!has(self.actions) || !has(self.actions.rollbackCanary) || !self.actions.rollbackCanary || (has(self.versions) && self.versions != 'Stable')",
      message: 'actions.rollbackCanary needs versions Canary or Both: only a watched canary can be judged',
      fieldPath: '.actions.rollbackCanary',
    },
    {
      rule: '!has(self.actions) || !has(self.actions.retrain) || !has(self.actions.retrain.template.register) || self.actions.retrain.template.register.modelName == self.model',
      message: 'actions.retrain.template.register.modelName must be the monitored model',
      fieldPath: '.actions.retrain.template.register.modelName',
    },
  ),
);
export type DriftMonitorSpec = Static<typeof DriftMonitorSpec>;

const scores = () =>
  object('Score by method (ChiSquare: the p-value).', {
    PSI: optional(number('Population stability index.')),
    KS: optional(number('Kolmogorov-Smirnov statistic on the bins.')),
    JS: optional(number('Jensen-Shannon distance, base 2.')),
    ChiSquare: optional(number('Chi-square p-value.')),
  });

export const SeriesVerdict = object('How far one feature (or the prediction score) has drifted.', {
  name: string('Feature name, or `:prediction` for the predicted positive-class score.', { maxLength: 128 }),
  severity: enumOf(SEVERITIES, 'The worst outcome of the tests.'),
  scores: scores(),
});
export type SeriesVerdict = Static<typeof SeriesVerdict>;

export const VersionVerdict = object('The latest evaluation of one watched version.', {
  version: modelVersion('The ModelVersion spec.version.'),
  modelVersion: string('The ModelVersion object.', { maxLength: 253 }),
  role: enumOf(['stable', 'canary'] as const, "The version's role when evaluated."),
  verdict: enumOf(
    ['NotEnoughData', 'None', 'Warning', 'Critical', 'Unavailable'] as const,
    'NotEnoughData below minSamples; Unavailable when its data or reference could not be read.',
  ),
  message: optional(string('Why, in words.', { maxLength: 1024 })),
  samples: optional(integer('Predictions served in the window.', { minimum: 0 })),
  driftedShare: optional(number('Share of monitored features that are critical.', { minimum: 0, maximum: 1 })),
  features: optional(list(SeriesVerdict, 'Per-feature verdicts, worst first.', { maxItems: 257 })),
});
export type VersionVerdict = Static<typeof VersionVerdict>;

export const DriftAction = object('A breach action the monitor took.', {
  type: enumOf(['Retrain', 'RollbackCanary'] as const, 'What was done.'),
  time: string('When.', { format: 'date-time' }),
  reason: string('The breach that caused it.', { maxLength: 1024 }),
  trainingJob: optional(string('The retraining TrainingJob created.', { maxLength: 253 })),
  modelVersion: optional(
    string('The ModelVersion rolled back, or the one the retraining run registered.', { maxLength: 253 }),
  ),
  outcome: optional(string('What came of it so far (the run, its gate, the rollout).', { maxLength: 1024 })),
});
export type DriftAction = Static<typeof DriftAction>;

export const DriftMonitorStatus = object('The latest evaluation and the actions taken.', {
  observedGeneration: optional(observedGeneration()),
  phase: optional(
    enumOf(
      ['Pending', 'NotEnoughData', 'Healthy', 'Warning', 'Critical', 'Error'] as const,
      "The worst watched version's verdict; Error when nothing could be evaluated.",
    ),
  ),
  lastEvaluationTime: optional(
    string(
      'When drift was last evaluated. An evaluation that could judge no version and changed nothing (no Prometheus, no serving version) keeps the earlier time, so an idle monitor does not write.',
      { format: 'date-time' },
    ),
  ),
  summary: optional(string('The worst feature and score, for `kubectl get`.', { maxLength: 256 })),
  versions: optional(list(VersionVerdict, 'One entry per watched version.', { maxItems: 2 })),
  actions: optional(list(DriftAction, 'The latest breach actions, newest last.', { maxItems: 20 })),
  activeTrainingJob: optional(string('The retraining run in progress.', { maxLength: 253 })),
  retrainingRuns: optional(integer('Retraining runs started so far; numbers their names.', { minimum: 0 })),
  conditions: optional(conditions()),
});
export type DriftMonitorStatus = Static<typeof DriftMonitorStatus>;

export const driftMonitorDefinition: CrdDefinition = {
  kind: 'DriftMonitor',
  plural: 'driftmonitors',
  shortNames: ['dm'],
  spec: DriftMonitorSpec,
  specRules: [{ rule: 'self.model == oldSelf.model', message: 'model is immutable', fieldPath: '.model' }],
  status: DriftMonitorStatus,
  description:
    'DriftMonitor compares live feature and prediction distributions with the training reference and acts on breaches.',
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model' },
    { name: 'State', type: 'string', jsonPath: '.status.phase' },
    { name: 'Worst', type: 'string', jsonPath: '.status.summary' },
    { name: 'Retraining', type: 'string', jsonPath: '.status.activeTrainingJob', priority: 1 },
    { name: 'Evaluated', type: 'date', jsonPath: '.status.lastEvaluationTime', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
