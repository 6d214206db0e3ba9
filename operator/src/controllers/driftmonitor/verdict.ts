// The drift verdict of one version: a chain of named pure checks that can each stop the evaluation
// with a reason (no reference, no data, not enough data, bins that do not match), then the scores,
// each series' severity, the drifted share and the version's verdict. Not enough data is never "no
// drift": it stops the chain before any score is computed.
import type { DriftMethod, DriftMonitorSpec, SeriesVerdict, Severity, VersionVerdict } from '../../api/index.js';
import { chiSquare, jensenShannon, ksBinned, psi } from '../../statistics/index.js';
import { sameBins, total, type Distributions, type Histogram } from './histograms.js';

/** The name the prediction score goes by among the features (no reference feature name has a colon). */
export const PREDICTION = ':prediction';

export interface Test {
  method: DriftMethod;
  warning: number;
  critical: number;
}

/** Defaults per method: PSI's are the customary 0.1 / 0.25; ChiSquare's are p-values (lower is worse). */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, { warning: number; critical: number }> = {
  PSI: { warning: 0.1, critical: 0.25 },
  KS: { warning: 0.1, critical: 0.2 },
  // For small shifts JS distance ≈ sqrt(PSI / (8 ln 2)): 0.1 / 0.2 sit near PSI 0.06 / 0.22.
  JS: { warning: 0.1, critical: 0.2 },
  ChiSquare: { warning: 0.05, critical: 0.01 },
};

const LOWER_IS_WORSE: ReadonlySet<DriftMethod> = new Set(['ChiSquare']);

export interface Policy {
  tests: Test[];
  minSamples: number;
  driftedShare: number;
  features?: string[];
  prediction: boolean;
  windowSeconds: number;
}

export function policyOf(spec: DriftMonitorSpec): Policy {
  return {
    tests: (spec.tests ?? [{ method: 'PSI' }]).map((t) => ({
      method: t.method,
      warning: t.warning ?? DEFAULT_THRESHOLDS[t.method].warning,
      critical: t.critical ?? DEFAULT_THRESHOLDS[t.method].critical,
    })),
    minSamples: spec.minSamples ?? 500,
    driftedShare: spec.driftedShare ?? 0.5,
    ...(spec.features?.length ? { features: spec.features } : {}),
    prediction: spec.prediction ?? true,
    windowSeconds: spec.windowSeconds ?? 3600,
  };
}

export type Failure = { error: string };
const failed = <T extends object>(x: T | Failure): x is Failure => 'error' in x;

/** What was gathered about one version. */
export interface VersionEvidence {
  version: string;
  modelVersion: string;
  role: 'stable' | 'canary';
  reference: Distributions | Failure;
  live: (Distributions & { samples: number }) | Failure;
}

interface Stop {
  verdict: 'Unavailable' | 'NotEnoughData';
  reason: string;
  message: string;
}

interface CheckInput {
  policy: Policy;
  evidence: VersionEvidence;
}

type Check = (input: CheckInput) => Stop | undefined;

const referenceAvailable: Check = ({ evidence }) =>
  failed(evidence.reference)
    ? { verdict: 'Unavailable', reason: 'ReferenceUnavailable', message: evidence.reference.error }
    : undefined;

const liveDataAvailable: Check = ({ evidence }) =>
  failed(evidence.live)
    ? { verdict: 'Unavailable', reason: 'LiveDataUnavailable', message: evidence.live.error }
    : undefined;

const enoughSamples: Check = ({ policy, evidence }) => {
  const { samples } = evidence.live as { samples: number };
  return samples < policy.minSamples
    ? {
        verdict: 'NotEnoughData',
        reason: 'NotEnoughData',
        message: `${Math.round(samples)} predictions in the last ${policy.windowSeconds}s, fewer than minSamples ${policy.minSamples}: not judged`,
      }
    : undefined;
};

const monitoredFeaturesInReference: Check = ({ policy, evidence }) => {
  const reference = evidence.reference as Distributions;
  const missing = (policy.features ?? []).filter((f) => !reference.features.has(f));
  return missing.length
    ? {
        verdict: 'Unavailable',
        reason: 'UnknownFeatures',
        message: `not in the reference of ${evidence.version}: ${missing.join(', ')}`,
      }
    : undefined;
};

const liveBinsMatchReference: Check = (input) => {
  for (const [name, reference, live] of monitoredSeries(input)) {
    if (!live)
      return { verdict: 'Unavailable', reason: 'BinsMismatch', message: `no live histogram for ${name} in Prometheus` };
    if (!sameBins(reference, live))
      return {
        verdict: 'Unavailable',
        reason: 'BinsMismatch',
        message: `the live buckets of ${name} (${live.upperBounds.length} bins) are not the reference's bins (${reference.upperBounds.length}): the serving pods loaded another reference`,
      };
  }
  return undefined;
};

const referenceNotEmpty: Check = (input) => {
  const empty = monitoredSeries(input).find(([, reference]) => total(reference) === 0);
  return empty
    ? { verdict: 'Unavailable', reason: 'ReferenceUnavailable', message: `the reference of ${empty[0]} is empty` }
    : undefined;
};

/** The checks, in order; the first that stops decides. */
export const CHAIN: readonly Check[] = [
  referenceAvailable,
  liveDataAvailable,
  enoughSamples,
  monitoredFeaturesInReference,
  liveBinsMatchReference,
  referenceNotEmpty,
];

function monitoredSeries({ policy, evidence }: CheckInput): [string, Histogram, Histogram | undefined][] {
  const reference = evidence.reference as Distributions;
  const live = evidence.live as Distributions;
  const names = policy.features ?? [...reference.features.keys()];
  const series: [string, Histogram, Histogram | undefined][] = names.map((n) => [
    n,
    reference.features.get(n)!,
    live.features.get(n),
  ]);
  if (policy.prediction && reference.prediction) series.push([PREDICTION, reference.prediction, live.prediction]);
  return series;
}

const SCORERS: Record<DriftMethod, (reference: number[], live: number[]) => number> = {
  PSI: (r, l) => psi(r, l),
  KS: ksBinned,
  JS: jensenShannon,
  ChiSquare: (r, l) => chiSquare(r, l).pValue,
};

export function severityOf(test: Test, score: number): Severity {
  const reaches = (threshold: number) => (LOWER_IS_WORSE.has(test.method) ? score <= threshold : score >= threshold);
  return reaches(test.critical) ? 'Critical' : reaches(test.warning) ? 'Warning' : 'None';
}

/** How far past its critical threshold a score is (1 = at it), to rank series across methods. */
function exceedance(test: Test, score: number): number {
  if (LOWER_IS_WORSE.has(test.method)) return score === 0 ? Infinity : test.critical / score;
  // A critical threshold of 0 (the schema allows it): a score of 0 is at it, anything more infinitely past.
  if (test.critical === 0) return score === 0 ? 1 : Infinity;
  return score / test.critical;
}

const RANK: Record<Severity, number> = { None: 0, Warning: 1, Critical: 2 };
export const worse = (a: Severity, b: Severity): Severity => (RANK[a] >= RANK[b] ? a : b);

interface Scored extends SeriesVerdict {
  exceedance: number;
  worstTest: string;
}

function scoreSeries(name: string, reference: Histogram, live: Histogram, tests: Test[]): Scored {
  let severity: Severity = 'None';
  let worst = { exceedance: -Infinity, text: '' };
  const scores: SeriesVerdict['scores'] = {};
  for (const test of tests) {
    const score = SCORERS[test.method](reference.counts, live.counts);
    scores[test.method] = round(score);
    severity = worse(severity, severityOf(test, score));
    const e = exceedance(test, score);
    if (e > worst.exceedance) worst = { exceedance: e, text: `${test.method}=${round(score)}` };
  }
  return { name, severity, scores, exceedance: worst.exceedance, worstTest: worst.text };
}

const round = (x: number) => Number(x.toPrecision(4));

export interface Evaluation {
  verdict: VersionVerdict;
  /** The stop's reason, or the verdict's (Critical, Warning, NoDrift). */
  reason: string;
  /** The worst series and its score, e.g. `amount PSI=0.41`. */
  worst?: string;
}

export function evaluateVersion(policy: Policy, evidence: VersionEvidence): Evaluation {
  const base = { version: evidence.version, modelVersion: evidence.modelVersion, role: evidence.role };
  const samples = failed(evidence.live) ? undefined : Math.round(evidence.live.samples);
  const input = { policy, evidence };
  for (const check of CHAIN) {
    const stop = check(input);
    if (stop)
      return {
        verdict: {
          ...base,
          verdict: stop.verdict,
          message: stop.message,
          ...(samples === undefined ? {} : { samples }),
        },
        reason: stop.reason,
      };
  }

  const scored = monitoredSeries(input)
    .map(([name, reference, live]) => scoreSeries(name, reference, live!, policy.tests))
    .sort((a, b) => b.exceedance - a.exceedance || a.name.localeCompare(b.name));
  const features = scored.filter((s) => s.name !== PREDICTION);
  const prediction = scored.find((s) => s.name === PREDICTION);
  const critical = features.filter((s) => s.severity === 'Critical');
  const driftedShare = features.length ? critical.length / features.length : 0;
  const breach = (features.length > 0 && driftedShare >= policy.driftedShare) || prediction?.severity === 'Critical';
  const anyDrift = scored.some((s) => s.severity !== 'None');
  const verdict = breach ? 'Critical' : anyDrift ? 'Warning' : 'None';

  const parts = [
    `${critical.length} of ${features.length} features critical` +
      (critical.length ? ` (${critical.map((s) => `${s.name} ${s.worstTest}`).join(', ')})` : ''),
    `drifted share ${round(driftedShare)} ${driftedShare >= policy.driftedShare ? '>=' : '<'} ${policy.driftedShare}`,
  ];
  if (prediction)
    parts.push(
      `prediction score ${prediction.severity === 'None' ? 'stable' : prediction.severity.toLowerCase()} (${prediction.worstTest})`,
    );
  return {
    verdict: {
      ...base,
      verdict,
      message: parts.join('; '),
      samples: samples!,
      driftedShare: round(driftedShare),
      features: scored.map(({ name, severity, scores }) => ({ name, severity, scores })),
    },
    reason: verdict === 'None' ? 'NoDrift' : verdict,
    ...(scored[0] ? { worst: `${scored[0].name} ${scored[0].worstTest}` } : {}),
  };
}
