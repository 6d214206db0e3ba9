// DriftMonitor: compares live feature and prediction distributions of a model's serving pods with
// the training reference and acts when they drift apart.
import { object, string, integer, number, boolean, enumOf, list, optional, cel, type Static } from './schema.js';
import { conditions, observedGeneration } from './common.js';
import { TrainingJobSpec } from './trainingjob.js';
import type { CrdDefinition } from './crd.js';

export const DRIFT_METHODS = ['PSI', 'KS', 'JS', 'ChiSquare'] as const;

export const DriftTest = object(
  'One statistical test applied to every monitored feature (and the prediction).',
  {
    method: enumOf(
      DRIFT_METHODS,
      'PSI (population stability index), KS (Kolmogorov-Smirnov statistic), JS (Jensen-Shannon distance) or ChiSquare (chi-square statistic over the reference bins).',
    ),
    warning: number('Score at which the feature is reported as drifting.', { minimum: 0 }),
    critical: number('Score at which the breach actions run.', { minimum: 0 }),
  },
  cel({ rule: 'self.warning < self.critical', message: 'warning must be lower than critical', fieldPath: '.warning' }),
);

export const DriftMonitorSpec = object('What to watch and what to do when it drifts.', {
  model: string('The model (ModelVersion spec.model) whose serving pods are compared.', {
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 40,
  }),
  reference: optional(
    object("Reference distribution; defaults to the stable ModelVersion's reference.", {
      uri: string('Where reference.json is.', { minLength: 1 }),
    }),
  ),
  prometheusUrl: optional(
    string("Prometheus that scrapes the serving pods; defaults to the operator's --prometheus-url.", {
      pattern: '^https?://',
    }),
  ),
  intervalSeconds: optional(integer('How often to evaluate.', { minimum: 10, maximum: 86400, default: 300 })),
  windowSeconds: optional(
    integer('How much recent traffic each evaluation looks at.', { minimum: 60, maximum: 604800, default: 3600 }),
  ),
  minSamples: optional(
    integer('Predictions the window must hold before drift is judged.', { minimum: 1, default: 500 }),
  ),
  features: optional(
    list(string('A feature name from the reference.'), 'Features to monitor; all by default.', { maxItems: 512 }),
  ),
  tests: optional(
    list(DriftTest, 'Tests to run; a feature breaches when any test reaches its critical score.', {
      minItems: 1,
      maxItems: 4,
      default: [{ method: 'PSI', warning: 0.1, critical: 0.25 }],
      ...cel({
        rule: 'self.all(t, self.filter(u, u.method == t.method).size() == 1)',
        message: 'each method may appear once in tests',
      }),
    }),
  ),
  actions: optional(
    object('What to do on a critical breach, besides the Warning Event and the Drifted condition that always follow.', {
      retrain: optional(
        object('Create a TrainingJob from this template (one at a time).', {
          template: TrainingJobSpec,
          cooldownSeconds: optional(
            integer('Minimum time between two retraining runs.', { minimum: 0, default: 86400 }),
          ),
        }),
      ),
      rollback: optional(boolean('Roll the model back to its previous stable version.', { default: false })),
    }),
  ),
});
export type DriftMonitorSpec = Static<typeof DriftMonitorSpec>;

export const FeatureScore = object('Drift scores of one feature.', {
  name: string('Feature name (or `prediction`).'),
  scores: object('Score by method.', {
    PSI: optional(number('Population stability index.')),
    KS: optional(number('Kolmogorov-Smirnov statistic.')),
    JS: optional(number('Jensen-Shannon distance.')),
    ChiSquare: optional(number('Chi-square statistic.')),
  }),
  severity: enumOf(['None', 'Warning', 'Critical'] as const, 'The worst outcome of the tests.'),
});

export const DriftMonitorStatus = object('The latest evaluation.', {
  observedGeneration: optional(observedGeneration()),
  phase: optional(
    enumOf(['Pending', 'Healthy', 'Drifting', 'Breached', 'Error'] as const, 'Summary of the conditions.'),
  ),
  lastEvaluationTime: optional(string('When drift was last evaluated.', { format: 'date-time' })),
  samples: optional(integer('Predictions in the last window.', { minimum: 0 })),
  maxScore: optional(string('The highest score and its feature, for `kubectl get`.')),
  features: optional(list(FeatureScore, 'Per-feature scores from the last evaluation.')),
  lastAction: optional(string('The last breach action taken.')),
  lastRetrainTime: optional(string('When a retraining run was last started.', { format: 'date-time' })),
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
    { name: 'Max-Score', type: 'string', jsonPath: '.status.maxScore' },
    { name: 'Samples', type: 'integer', jsonPath: '.status.samples', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
