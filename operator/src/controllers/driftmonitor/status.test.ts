import type { Condition, DriftMonitorStatus } from '../../api/index.js';
import { distributions, evidence, SHIFTED } from './fixtures.test-helpers.js';
import { assess, driftTransitionEvent, evaluatedAt } from './status.js';
import { evaluateVersion, policyOf } from './verdict.js';

const policy = { ...policyOf({ model: 'fraud' }), driftedShare: 0.2 };
const healthy = evaluateVersion(policy, evidence());
const critical = evaluateVersion(
  policy,
  evidence({
    version: 'v2',
    modelVersion: 'fraud-v2',
    role: 'canary',
    liveDistributions: distributions(10, { f1: SHIFTED, f4: SHIFTED }),
  }),
);
const tooLittle = evaluateVersion(policy, evidence({ samples: 12 }));
const warning = evaluateVersion(policy, evidence({ liveDistributions: distributions(10, { f2: SHIFTED }) }));
const unavailable = evaluateVersion(policy, evidence({ live: { error: 'Prometheus: timeout after 10s' } }));

describe('assess', () => {
  test.each([
    ['one healthy version', [healthy], 'Healthy', ['True', 'Evaluated'], ['False', 'NoDrift']],
    [
      'a critical canary beside a healthy stable',
      [healthy, critical],
      'Critical',
      ['True', 'Evaluated'],
      ['True', 'Critical'],
    ],
    [
      'not enough data is never no drift',
      [tooLittle],
      'NotEnoughData',
      ['True', 'Evaluated'],
      ['Unknown', 'NotEnoughData'],
    ],
    [
      'a healthy stable and an unjudged canary',
      [healthy, tooLittle],
      'NotEnoughData',
      ['True', 'Evaluated'],
      ['Unknown', 'NotEnoughData'],
    ],
    [
      'a warning outweighs a version without enough data',
      [tooLittle, warning],
      'Warning',
      ['True', 'Evaluated'],
      ['True', 'Warning'],
    ],
    [
      'Prometheus unreachable',
      [unavailable],
      'Error',
      ['False', 'LiveDataUnavailable'],
      ['Unknown', 'LiveDataUnavailable'],
    ],
    [
      'drift outweighs an unreadable version',
      [unavailable, critical],
      'Critical',
      ['False', 'LiveDataUnavailable'],
      ['True', 'Critical'],
    ],
  ] as const)('%s', (_name, evaluations, phase, [readyStatus, readyReason], [driftStatus, driftReason]) => {
    const result = assess([...evaluations]);
    expect(result.phase).toBe(phase);
    expect(result.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: readyStatus, reason: readyReason }),
      expect.objectContaining({ type: 'Drifted', status: driftStatus, reason: driftReason }),
    ]);
    expect(result.versions).toHaveLength(evaluations.length);
  });

  test('the message names every version; the summary the worst series', () => {
    const result = assess([healthy, critical]);
    expect(result.conditions[1]!.message).toMatch(
      /^v1 \(stable\): 0 of 10 features critical.* \| v2 \(canary\): 2 of 10 features critical \(f1 PSI=0\.9861, f4 PSI=0\.9861\)/,
    );
    expect(result.summary).toBe('f1 PSI=0.9861 (v2)');
    expect(assess([tooLittle]).summary).toBe('12 samples (v1)');
  });

  test('the conditions say which versions were evaluated, and why one could not be read', () => {
    expect(assess([healthy, critical]).conditions[0]).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Evaluated',
      message: 'evaluated v1 (stable), v2 (canary)',
    });
    expect(assess([unavailable]).conditions[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'LiveDataUnavailable',
      message: 'Prometheus: timeout after 10s',
    });
    const healthyOnly = assess([healthy]).conditions[1]!;
    expect(healthyOnly.message).toBe(`v1 (stable): ${healthy.verdict.message}`);
    expect(assess([tooLittle]).conditions[1]!.message).toBe(`v1 (stable): ${tooLittle.verdict.message}`);
    expect(assess([unavailable])).not.toHaveProperty('summary');
  });

  test('an unreadable version without a message still gives Ready a message', () => {
    const silent = { ...unavailable, verdict: { ...unavailable.verdict, message: undefined } };
    expect(assess([silent]).conditions[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'LiveDataUnavailable',
      message: '',
    });
  });

  test('not enough data without a sample count reads 0 samples', () => {
    const { samples: _samples, ...verdict } = tooLittle.verdict;
    expect(assess([{ ...tooLittle, verdict }]).summary).toBe('0 samples (v1)');
  });

  test('a reason to evaluate nothing wins over evaluations', () => {
    const why = { reason: 'PrometheusNotConfigured', message: 'no Prometheus URL' };
    expect(assess([healthy], why)).toEqual({
      phase: 'Error',
      versions: [],
      conditions: [
        { type: 'Ready', status: 'False', ...why },
        { type: 'Drifted', status: 'Unknown', ...why },
      ],
    });
  });

  test('nothing to evaluate: no serving version is Pending, a configuration problem is an Error', () => {
    expect(assess([])).toEqual({
      phase: 'Pending',
      versions: [],
      conditions: [
        { type: 'Ready', status: 'False', reason: 'NoServingVersion', message: 'no watched version serves' },
        { type: 'Drifted', status: 'Unknown', reason: 'NoServingVersion', message: 'no watched version serves' },
      ],
    });
    expect(assess([])).toMatchObject({
      phase: 'Pending',
      conditions: [{ reason: 'NoServingVersion' }, { status: 'Unknown' }],
    });
    const why = { reason: 'PrometheusNotConfigured', message: 'no Prometheus URL' };
    expect(assess([], why)).toMatchObject({
      phase: 'Error',
      conditions: [
        { status: 'False', ...why },
        { status: 'Unknown', ...why },
      ],
    });
  });
});

describe('driftTransitionEvent: Events on transitions only', () => {
  const was = (status: Condition['status'], reason: string): Condition => ({
    type: 'Drifted',
    status,
    reason,
    message: 'before',
    lastTransitionTime: '2026-01-01T00:00:00Z',
  });
  const drifted = (r: ReturnType<typeof assess>) => r.conditions.find((c) => c.type === 'Drifted')!;

  test.each([
    ['first evaluation, no drift', undefined, assess([healthy]), 'Normal', 'NoDrift'],
    ['no drift → critical', was('False', 'NoDrift'), assess([critical]), 'Warning', 'DriftCritical'],
    ['critical → no drift', was('True', 'Critical'), assess([healthy]), 'Normal', 'NoDrift'],
    ['no drift → not enough data', was('False', 'NoDrift'), assess([tooLittle]), 'Normal', 'NotEnoughData'],
    ['no drift → warning', was('False', 'NoDrift'), assess([warning]), 'Warning', 'DriftWarning'],
    [
      'warning → critical: the same status, another reason',
      was('True', 'Warning'),
      assess([critical]),
      'Warning',
      'DriftCritical',
    ],
    ['no drift → no serving version', was('False', 'NoDrift'), assess([]), 'Normal', 'NoServingVersion'],
    [
      'no drift → Prometheus unreachable',
      was('False', 'NoDrift'),
      assess([unavailable]),
      'Warning',
      'LiveDataUnavailable',
    ],
  ] as const)('%s', (_name, previous, next, type, reason) => {
    expect(driftTransitionEvent(previous, drifted(next))).toEqual({ type, reason, message: drifted(next).message });
  });

  test('the same reason with another status is a transition', () => {
    expect(driftTransitionEvent(was('Unknown', 'NoDrift'), drifted(assess([healthy])))).toMatchObject({
      reason: 'NoDrift',
    });
  });

  test('the same state again (new scores, same reason) says nothing', () => {
    expect(driftTransitionEvent(was('True', 'Critical'), drifted(assess([critical])))).toBeUndefined();
    expect(driftTransitionEvent(was('False', 'NoDrift'), drifted(assess([healthy])))).toBeUndefined();
  });
});

describe('evaluatedAt: an evaluation that judged nothing and found what the status says keeps its time', () => {
  const LAST = '2026-03-01T12:00:00.000Z';
  const NOW = new Date('2026-03-01T12:05:00.000Z');
  const nothing = assess([], { reason: 'PrometheusNotConfigured', message: 'no Prometheus' });
  const [ready, drifted] = nothing.conditions.map((c) => ({ ...c, lastTransitionTime: LAST }) as Condition);
  const recorded: DriftMonitorStatus = {
    lastEvaluationTime: LAST,
    phase: nothing.phase,
    versions: [],
    conditions: [ready!, drifted!],
  };
  const withReady = (change: Partial<Condition>) => ({ ...recorded, conditions: [{ ...ready!, ...change }, drifted!] });
  test.each<[string, DriftMonitorStatus | undefined, typeof nothing, string]>([
    ['the same as recorded: kept', recorded, nothing, LAST],
    [
      'a status without versions (an older writer) reads as none: kept',
      { ...recorded, versions: undefined },
      nothing,
      LAST,
    ],
    ['the conditions recorded in another order: kept', { ...recorded, conditions: [drifted!, ready!] }, nothing, LAST],
    ['no status yet', undefined, nothing, NOW.toISOString()],
    ['never evaluated', { ...recorded, lastEvaluationTime: undefined }, nothing, NOW.toISOString()],
    ['another phase recorded', { ...recorded, phase: 'Pending' }, nothing, NOW.toISOString()],
    ['a version judged last time', { ...recorded, versions: [healthy.verdict] }, nothing, NOW.toISOString()],
    ['a version judged now', recorded, assess([healthy]), NOW.toISOString()],
    [
      'a version judged now, the phase and conditions as an older writer recorded them without versions',
      { lastEvaluationTime: LAST, phase: 'Healthy', conditions: assess([healthy]).conditions as Condition[] },
      assess([healthy]),
      NOW.toISOString(),
    ],
    ['no conditions recorded', { ...recorded, conditions: undefined }, nothing, NOW.toISOString()],
    ['one condition not recorded', { ...recorded, conditions: [drifted!] }, nothing, NOW.toISOString()],
    ["a condition's words under another type", withReady({ type: 'Other' }), nothing, NOW.toISOString()],
    ['another status', withReady({ status: 'True' }), nothing, NOW.toISOString()],
    ['another reason', withReady({ reason: 'NoServingVersion' }), nothing, NOW.toISOString()],
    ['another message', withReady({ message: 'no Prometheus yet' }), nothing, NOW.toISOString()],
  ])('%s', (_case, previous, assessment, expected) => {
    expect(evaluatedAt(previous, assessment, NOW)).toBe(expected);
  });
});
