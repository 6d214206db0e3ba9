import type { DriftAction } from '../../api/index.js';
import {
  ANNOTATION_ABORT,
  decideRetrain,
  decideRollback,
  adoptUnrecorded,
  nextRunNumber,
  recordAction,
  retrainingCondition,
  retrainOutcome,
  withOutcomes,
  type ActionInput,
} from './actions.js';
import {
  distributions,
  driftMonitor,
  evidence,
  modelVersion,
  retrainSpec,
  SHIFTED,
  trainingJob,
} from './fixtures.test-helpers.js';
import { evaluateVersion, policyOf } from './verdict.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const policy = { ...policyOf({ model: 'fraud' }), driftedShare: 0.2 };
const breached = (role: 'stable' | 'canary' = 'stable', modelVersionName = 'fraud-v1') =>
  evaluateVersion(
    policy,
    evidence({
      role,
      modelVersion: modelVersionName,
      liveDistributions: distributions(10, { f0: SHIFTED, f1: SHIFTED }),
    }),
  );
const healthy = evaluateVersion(policy, evidence());
const retrained = (time: string, trainingJob = 'fraud-drift-retrain-1'): DriftAction => ({
  type: 'Retrain',
  time,
  reason: 'drift',
  trainingJob,
});

function input(overrides: Partial<ActionInput> & { actions?: DriftAction[]; retrain?: object } = {}): ActionInput {
  const { actions, retrain, ...rest } = overrides;
  return {
    dm: driftMonitor(retrainSpec(retrain), actions ? { actions } : undefined),
    now: NOW,
    evaluations: [breached()],
    runs: [],
    canary: undefined,
    ...rest,
  };
}

describe('decideRetrain', () => {
  test('a breach with nothing in the way starts a run, giving the breach as the reason', () => {
    expect(decideRetrain(input())).toEqual({
      act: true,
      reason: expect.stringMatching(/^v1 \(stable\): 2 of 10 features critical \(f0 PSI=/),
    });
  });

  test('nothing to decide without a breach, or without retraining configured', () => {
    expect(decideRetrain(input({ evaluations: [healthy] }))).toBeUndefined();
    expect(decideRetrain({ ...input(), dm: driftMonitor() })).toBeUndefined();
  });

  test.each([
    [
      'a run in progress: never two at once',
      { runs: [trainingJob('fraud-drift-retrain-1', 'Running')] },
      'RunInProgress',
      /retraining run fraud-drift-retrain-1 has not finished/,
    ],
    [
      'a run just created, no status yet',
      { runs: [trainingJob('fraud-drift-retrain-1')] },
      'RunInProgress',
      /has not finished/,
    ],
    [
      'a canary rolling out',
      { canary: modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' }) },
      'RolloutInProgress',
      /canary fraud-v2 is rolling out/,
    ],
    [
      'within the cooldown',
      { actions: [retrained(hoursAgo(23))], runs: [trainingJob('fraud-drift-retrain-1', 'Succeeded')] },
      'Cooldown',
      /next may start at 2026-03-01T13:00:00.000Z/,
    ],
    [
      'at the daily cap',
      { actions: [retrained(hoursAgo(5)), retrained(hoursAgo(3))], retrain: { cooldownSeconds: 3600, maxPerDay: 2 } },
      'DailyCap',
      /2 runs started in the last 24 h, maxPerDay 2/,
    ],
  ] as const)('%s', (_name, overrides, reason, message) => {
    const decision = decideRetrain(input(overrides as Parameters<typeof input>[0]));
    expect(decision).toEqual({ act: false, reason, message: expect.stringMatching(message) });
  });

  test('a finished run, past the cooldown and under the cap: the next run may start', () => {
    const decision = decideRetrain(
      input({ actions: [retrained(hoursAgo(25))], runs: [trainingJob('fraud-drift-retrain-1', 'Failed')] }),
    );
    expect(decision?.act).toBe(true);
  });

  test('the daily cap counts the last 24 hours only', () => {
    const actions = [retrained(hoursAgo(30)), retrained(hoursAgo(2))];
    expect(decideRetrain(input({ actions, retrain: { cooldownSeconds: 3600, maxPerDay: 2 } }))?.act).toBe(true);
  });
});

describe('decideRollback', () => {
  const canary = modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' });
  const withRollback = (overrides: Partial<ActionInput> = {}, actions?: DriftAction[]): ActionInput => ({
    ...input(),
    dm: driftMonitor({ versions: 'Both', actions: { rollbackCanary: true } }, actions ? { actions } : undefined),
    canary,
    evaluations: [healthy, breached('canary', 'fraud-v2')],
    ...overrides,
  });

  test('a canary in breach is aborted, the annotation naming the monitor and the worst score', () => {
    expect(decideRollback(withRollback())).toEqual({
      modelVersion: 'fraud-v2',
      value: expect.stringMatching(/^driftmonitor\/fraud-drift: f0 PSI=0\.9861$/),
    });
  });

  test.each([
    ['the stable version in breach, the canary fine', { evaluations: [breached(), healthy] }],
    ['no rollout in progress', { canary: undefined }],
    ['rollback not asked for', { dm: driftMonitor({ versions: 'Both' }) }],
  ])('nothing when %s', (_name, overrides) => {
    expect(decideRollback(withRollback(overrides as Partial<ActionInput>))).toBeUndefined();
  });

  test('once per canary', () => {
    const done: DriftAction = { type: 'RollbackCanary', time: hoursAgo(0), reason: 'x', modelVersion: 'fraud-v2' };
    expect(decideRollback(withRollback({}, [done]))).toBeUndefined();
    expect(ANNOTATION_ABORT).toBe('modelops.dev/abort');
  });
});

describe('what is recorded', () => {
  test('the history keeps the newest 20 actions', () => {
    let actions: DriftAction[] = [];
    for (let i = 0; i < 25; i++) actions = recordAction(actions, retrained(hoursAgo(25 - i), `run-${i}`));
    expect(actions).toHaveLength(20);
    expect(actions[0]!.trainingJob).toBe('run-5');
    expect(actions.at(-1)!.trainingJob).toBe('run-24');
  });

  test.each([
    ['gone', undefined, undefined, 'the TrainingJob no longer exists'],
    ['running', trainingJob('r', 'Running'), undefined, 'training running'],
    [
      'failed',
      trainingJob('r', 'Failed', {
        conditions: [
          { type: 'Failed', status: 'True', reason: 'OOMKilled', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      undefined,
      'training failed: OOMKilled',
    ],
    [
      'refused by the gate',
      trainingJob('r', 'Succeeded', {
        gateMessage: "gate failed: val_auc 0.91 does not beat the stable version's 0.93",
        conditions: [
          { type: 'Registered', status: 'False', reason: 'GateRefused', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      undefined,
      "not registered: gate failed: val_auc 0.91 does not beat the stable version's 0.93",
    ],
    [
      'registered and rolling out',
      trainingJob('r', 'Succeeded', {
        modelVersion: 'fraud-r',
        conditions: [
          { type: 'Registered', status: 'True', reason: 'GatePassed', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      modelVersion('fraud-r', 'r', { phase: 'Canary' }),
      'registered fraud-r: Canary',
    ],
  ] as const)('retrainOutcome: %s', (_name, run, registered, expected) => {
    expect(retrainOutcome(run, registered)).toBe(expected);
  });

  test('withOutcomes follows each run to the version it registered', () => {
    const run = trainingJob('fraud-drift-retrain-1', 'Succeeded', {
      modelVersion: 'fraud-fraud-drift-retrain-1',
      conditions: [
        { type: 'Registered', status: 'True', reason: 'GatePassed', message: 'm', lastTransitionTime: hoursAgo(0) },
      ],
    });
    const mv = modelVersion('fraud-fraud-drift-retrain-1', 'fraud-drift-retrain-1', { phase: 'Serving' });
    const rollback: DriftAction = { type: 'RollbackCanary', time: hoursAgo(1), reason: 'x', modelVersion: 'fraud-v2' };
    expect(
      withOutcomes(
        [retrained(hoursAgo(2)), rollback],
        new Map([[run.metadata.name, run]]),
        new Map([[mv.metadata.name, mv]]),
      ),
    ).toEqual([
      {
        ...retrained(hoursAgo(2)),
        modelVersion: 'fraud-fraud-drift-retrain-1',
        outcome: 'registered fraud-fraud-drift-retrain-1: Serving',
      },
      rollback,
    ]);
  });

  test('a deleted run keeps the outcome last seen', () => {
    const seen = { ...retrained(hoursAgo(2)), outcome: 'registered fraud-x: Serving' };
    expect(withOutcomes([seen], new Map(), new Map())).toEqual([seen]);
  });

  test('the Retraining condition', () => {
    expect(retrainingCondition([trainingJob('r1', 'Running')], undefined)).toMatchObject({
      status: 'True',
      reason: 'RunInProgress',
    });
    expect(retrainingCondition([], { act: false, reason: 'Cooldown', message: 'until T' })).toMatchObject({
      status: 'False',
      reason: 'Cooldown',
      message: 'until T',
    });
    expect(retrainingCondition([trainingJob('r1', 'Succeeded')], undefined)).toMatchObject({
      status: 'False',
      reason: 'Idle',
    });
  });
});

describe('runs created by a pass whose status write failed', () => {
  const run = (name: string, created: string) => {
    const tj = trainingJob(name, 'Running');
    tj.metadata.creationTimestamp = created;
    tj.metadata.annotations = { 'modelops.dev/drift-reason': 'v1 (stable): 3 of 30 features critical' };
    return tj;
  };

  test('are recorded from what they carry, in order', () => {
    const actions = adoptUnrecorded(
      [retrained(hoursAgo(30), 'fraud-drift-retrain-1')],
      [run('fraud-drift-retrain-3', hoursAgo(1)), run('fraud-drift-retrain-2', hoursAgo(2))],
    );
    expect(actions!.map((a) => [a.trainingJob, a.time, a.reason])).toEqual([
      ['fraud-drift-retrain-1', hoursAgo(30), 'drift'],
      ['fraud-drift-retrain-2', hoursAgo(2), 'v1 (stable): 3 of 30 features critical'],
      ['fraud-drift-retrain-3', hoursAgo(1), 'v1 (stable): 3 of 30 features critical'],
    ]);
  });

  test('the next run is numbered past every run counted, recorded or present', () => {
    expect(nextRunNumber(driftMonitor(), [])).toBe(1);
    expect(nextRunNumber(driftMonitor({}, { retrainingRuns: 4 }), [])).toBe(5);
    expect(nextRunNumber(driftMonitor({}, { retrainingRuns: 1 }), [run('fraud-drift-retrain-2', hoursAgo(1))])).toBe(3);
    expect(nextRunNumber(driftMonitor({}, { actions: [retrained(hoursAgo(1), 'fraud-drift-retrain-7')] }), [])).toBe(8);
  });
});
