import type { DriftAction } from '../../api/index.js';
import {
  ANNOTATION_ABORT,
  breachOf,
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

describe('decideRetrain: the edges of its checks', () => {
  test('every breached version is named, stable and canary', () => {
    expect(breachOf([breached(), healthy, breached('canary', 'fraud-v2')])).toMatch(
      /^v1 \(stable\): 2 of 10 features critical .* \| v1 \(canary\): 2 of 10 features critical /,
    );
    expect(breachOf([healthy])).toBeUndefined();
  });

  test.each([
    ['the cooldown ends on the second: a run may start then', [retrained(hoursAgo(24))], {}, true],
    ['a minute short of the cooldown', [retrained(hoursAgo(24 - 1 / 60))], {}, false],
    [
      'the cooldown counts from the last retraining, not from a later rollback',
      [retrained(hoursAgo(30)), { type: 'RollbackCanary', time: hoursAgo(1), reason: 'x', modelVersion: 'fraud-v2' }],
      {},
      true,
    ],
    ['one run a day by default', [retrained(hoursAgo(5))], { cooldownSeconds: 3600 }, false],
    [
      'a run 24 hours ago no longer counts against the cap',
      [retrained(hoursAgo(24)), retrained(hoursAgo(2))],
      { cooldownSeconds: 3600, maxPerDay: 2 },
      true,
    ],
  ] as const)('%s', (_name, actions, retrain, act) => {
    expect(decideRetrain(input({ actions: [...actions] as DriftAction[], retrain }))?.act).toBe(act);
  });

  test('the daily cap by default', () => {
    expect(decideRetrain(input({ actions: [retrained(hoursAgo(5))], retrain: { cooldownSeconds: 3600 } }))).toEqual({
      act: false,
      reason: 'DailyCap',
      message: '1 runs started in the last 24 h, maxPerDay 1',
    });
  });

  test('the cooldown names the last run and when it started', () => {
    expect(decideRetrain(input({ actions: [retrained(hoursAgo(1), 'fraud-drift-retrain-4')] }))).toEqual({
      act: false,
      reason: 'Cooldown',
      message: `the last run (fraud-drift-retrain-4) started at ${hoursAgo(1)}; the next may start at 2026-03-02T11:00:00.000Z`,
    });
  });

  test('a run in progress comes before a rollout in progress', () => {
    const canary = modelVersion('fraud-v2', 'v2', { role: 'canary', phase: 'Canary' });
    expect(decideRetrain(input({ runs: [trainingJob('fraud-drift-retrain-1', 'Running')], canary }))).toMatchObject({
      reason: 'RunInProgress',
    });
    expect(decideRetrain(input({ canary }))).toEqual({
      act: false,
      reason: 'RolloutInProgress',
      message: 'the canary fraud-v2 is rolling out; its outcome comes first',
    });
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

  test.each([
    ['another version in breach under the canary name, serving as stable', [breached('stable', 'fraud-v2')]],
    ['a canary in breach that is not the one rolling out', [breached('canary', 'fraud-v3')]],
    [
      'the canary drifting, but not critically',
      [
        healthy,
        {
          ...breached('canary', 'fraud-v2'),
          verdict: { ...breached('canary', 'fraud-v2').verdict, verdict: 'Warning' as const },
        },
      ],
    ],
  ])('nothing when %s', (_name, evaluations) => {
    expect(decideRollback(withRollback({ evaluations }))).toBeUndefined();
  });

  test("another canary's rollback, or a retraining that registered this canary, does not count as done", () => {
    const other: DriftAction = { type: 'RollbackCanary', time: hoursAgo(0), reason: 'x', modelVersion: 'fraud-v1' };
    const retrain: DriftAction = { ...retrained(hoursAgo(1)), modelVersion: 'fraud-v2' };
    expect(decideRollback(withRollback({}, [other, retrain]))?.modelVersion).toBe('fraud-v2');
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

  test.each([
    ['not started yet', trainingJob('r'), undefined, 'training pending'],
    ['failed, without a Failed condition', trainingJob('r', 'Failed'), undefined, 'training failed'],
    [
      'succeeded, gate not yet judged',
      trainingJob('r', 'Succeeded'),
      undefined,
      'training succeeded; registration pending',
    ],
    [
      'refused, without a gate message',
      trainingJob('r', 'Succeeded', {
        conditions: [
          {
            type: 'Registered',
            status: 'False',
            reason: 'GateRefused',
            message: 'val_auc 0.8 < 0.9',
            lastTransitionTime: hoursAgo(0),
          },
        ],
      }),
      undefined,
      'not registered: val_auc 0.8 < 0.9',
    ],
    [
      'registered, its version not yet seen',
      trainingJob('r', 'Succeeded', {
        modelVersion: 'fraud-r',
        conditions: [
          { type: 'Failed', status: 'False', reason: 'NotFailed', message: 'm', lastTransitionTime: hoursAgo(0) },
          { type: 'Registered', status: 'True', reason: 'GatePassed', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      undefined,
      'registered fraud-r',
    ],
    [
      'registered, its version created but not yet reconciled',
      trainingJob('r', 'Succeeded', {
        modelVersion: 'fraud-r',
        conditions: [
          { type: 'Registered', status: 'True', reason: 'GatePassed', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      { ...modelVersion('fraud-r', 'r'), status: undefined },
      'registered fraud-r',
    ],
    [
      'failed: the Failed condition, not the first one',
      trainingJob('r', 'Failed', {
        conditions: [
          { type: 'Registered', status: 'False', reason: 'NotRun', message: 'm', lastTransitionTime: hoursAgo(0) },
          { type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'm', lastTransitionTime: hoursAgo(0) },
        ],
      }),
      undefined,
      'training failed: DeadlineExceeded',
    ],
  ] as const)('retrainOutcome: %s', (_name, run, registered, expected) => {
    expect(retrainOutcome(run, registered)).toBe(expected);
  });

  test('withOutcomes: a run gone before its outcome was seen; a run without a name; no history', () => {
    const gone = { ...retrained(hoursAgo(2)), modelVersion: 'fraud-x' };
    expect(withOutcomes([gone], new Map(), new Map())).toEqual([
      { ...gone, outcome: 'the TrainingJob no longer exists' },
    ]);
    const unnamed: DriftAction = { type: 'Retrain', time: hoursAgo(3), reason: 'drift' };
    expect(withOutcomes([unnamed], new Map(), new Map())).toEqual([unnamed]);
    expect(withOutcomes(undefined, new Map(), new Map())).toBeUndefined();
  });

  test('withOutcomes follows retraining runs only: a rollback that names the run behind its canary keeps its record', () => {
    const run = trainingJob('fraud-drift-retrain-1', 'Running');
    const rollback: DriftAction = {
      type: 'RollbackCanary',
      time: hoursAgo(1),
      reason: 'x',
      modelVersion: 'fraud-v2',
      trainingJob: 'fraud-drift-retrain-1',
    };
    expect(withOutcomes([rollback], new Map([[run.metadata.name, run]]), new Map())).toEqual([rollback]);
  });

  test('withOutcomes: a live run replaces the outcome last seen; one without a version adds none', () => {
    const seen = { ...retrained(hoursAgo(2)), outcome: 'training pending' };
    const run = trainingJob('fraud-drift-retrain-1', 'Running');
    expect(withOutcomes([seen], new Map([[run.metadata.name, run]]), new Map())).toEqual([
      { ...seen, outcome: 'training running' },
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
    expect(retrainingCondition([trainingJob('r1', 'Succeeded')], undefined)).toEqual({
      type: 'Retraining',
      status: 'False',
      reason: 'Idle',
      message: 'no retraining run in progress',
    });
    expect(retrainingCondition([trainingJob('r0', 'Failed'), trainingJob('r1')], { act: true, reason: 'x' })).toEqual({
      type: 'Retraining',
      status: 'True',
      reason: 'RunInProgress',
      message: 'retraining run r1 is Pending',
    });
    expect(retrainingCondition([trainingJob('r1', 'Running')], undefined).message).toBe('retraining run r1 is Running');
    expect(retrainingCondition([], { act: true, reason: 'breach' })).toMatchObject({ reason: 'Idle' });
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

  test('nothing unrecorded: the history is returned as it is', () => {
    const actions = [retrained(hoursAgo(30), 'fraud-drift-retrain-1')];
    expect(adoptUnrecorded(actions, [run('fraud-drift-retrain-1', hoursAgo(30))])).toBe(actions);
    expect(adoptUnrecorded(undefined, [])).toBeUndefined();
  });

  test('a run without a creation time or a reason is still recorded', () => {
    const bare = trainingJob('fraud-drift-retrain-2', 'Running');
    expect(adoptUnrecorded(undefined, [bare])).toEqual([
      {
        type: 'Retrain',
        time: '1970-01-01T00:00:00.000Z',
        reason: 'recorded after the fact',
        trainingJob: 'fraud-drift-retrain-2',
      },
    ]);
  });

  test('runs are recorded in the order of their numbers, not of their names', () => {
    const actions = adoptUnrecorded(undefined, [
      run('fraud-drift-retrain-10', hoursAgo(1)),
      run('fraud-drift-retrain-9', hoursAgo(2)),
    ]);
    expect(actions!.map((a) => a.trainingJob)).toEqual(['fraud-drift-retrain-9', 'fraud-drift-retrain-10']);
  });

  test('only a name ending in -retrain-<n> carries a run number', () => {
    expect(nextRunNumber(driftMonitor(), [run('fraud-drift-retrain-12', hoursAgo(1))])).toBe(13);
    expect(nextRunNumber(driftMonitor(), [run('fraud-drift-retrain-5-copy', hoursAgo(1))])).toBe(1);
    expect(nextRunNumber(driftMonitor(), [run('manual-retrain-x', hoursAgo(1))])).toBe(1);
    const unnamed: DriftAction = { type: 'Retrain', time: hoursAgo(3), reason: 'drift' };
    const rollback: DriftAction = {
      type: 'RollbackCanary',
      time: hoursAgo(1),
      reason: 'x',
      modelVersion: 'v-retrain-9',
    };
    expect(nextRunNumber(driftMonitor({}, { actions: [unnamed, rollback] }), [])).toBe(1);
  });

  test('the next run is numbered past every run counted, recorded or present', () => {
    expect(nextRunNumber(driftMonitor(), [])).toBe(1);
    expect(nextRunNumber(driftMonitor({}, { retrainingRuns: 4 }), [])).toBe(5);
    expect(nextRunNumber(driftMonitor({}, { retrainingRuns: 1 }), [run('fraud-drift-retrain-2', hoursAgo(1))])).toBe(3);
    expect(nextRunNumber(driftMonitor({}, { actions: [retrained(hoursAgo(1), 'fraud-drift-retrain-7')] }), [])).toBe(8);
  });
});
