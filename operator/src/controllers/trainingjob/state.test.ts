import type { TrainingJobStatus } from '../../api/index.js';
import { decideRunState, type Observed } from './state.js';
import { job, pod, complete, failed, report, REPORT } from './fixtures.test-helpers.js';

const conditionsOf = (state: ReturnType<typeof decideRunState>) =>
  Object.fromEntries(state.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
const decide = (observed: Partial<Observed>) =>
  decideRunState({ job: undefined, pods: [], previous: undefined, ...observed });
const wasCreated: TrainingJobStatus = {
  phase: 'Running',
  conditions: [{ type: 'Created', status: 'True', reason: 'JobCreated', message: '', lastTransitionTime: '' }],
};

describe('decideRunState', () => {
  test('no Job yet: Pending, not Created, neither Succeeded nor Failed', () => {
    const state = decide({});
    expect(state.phase).toBe('Pending');
    expect(conditionsOf(state)).toEqual({
      Created: 'False/Creating',
      Running: 'False/Pending',
      Succeeded: 'False/Pending',
      Failed: 'False/Pending',
    });
  });

  test('running pods: Running', () => {
    const state = decide({ job: job({ active: 1, startTime: '2026-01-01T00:00:00Z' }), pods: [pod('Running')] });
    expect(state.phase).toBe('Running');
    expect(conditionsOf(state)).toMatchObject({
      Created: 'True/JobCreated',
      Running: 'True/Running',
      Suspended: 'False/Resumed',
      Failed: 'False/Running',
    });
    expect(state.startTime).toBe('2026-01-01T00:00:00.000Z');
  });

  test('a phase never goes back: between pods (a retry, a pod done before its Job) a run that ran stays Running', () => {
    const between = { job: job({ active: 1 }), pods: [pod('Pending')] };
    expect(decide(between).phase).toBe('Pending');
    expect(decide({ ...between, previous: { phase: 'Running' } }).phase).toBe('Running');
    expect(decide({ job: job({ active: 0 }), pods: [], previous: { phase: 'Running' } }).phase).toBe('Running');
    // resumed after a suspension: it had started
    expect(decide({ ...between, previous: { phase: 'Suspended' } }).phase).toBe('Running');
  });

  test("a pod the scheduler cannot place: Pending, with the scheduler's message", () => {
    const unschedulable = pod('Pending');
    unschedulable.status!.containerStatuses = undefined;
    unschedulable.status!.conditions = [
      { type: 'Initialized', status: 'True' },
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.',
      },
    ];
    const state = decide({ job: job({ active: 1 }), pods: [unschedulable] });
    expect(state.phase).toBe('Pending');
    expect(conditionsOf(state)).toMatchObject({ Running: 'False/Unschedulable' });
    expect(state.warning).toEqual({
      reason: 'Unschedulable',
      message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.',
    });
  });

  test('a suspended Job: Suspended', () => {
    const state = decide({ job: job({}, { suspend: true }) });
    expect(state.phase).toBe('Suspended');
    expect(conditionsOf(state)).toMatchObject({ Suspended: 'True/Suspended', Running: 'False/Suspended' });
  });

  test('completed with a report: Succeeded with the metrics and artifact; Succeeded=True, Failed=False', () => {
    const state = decide({
      job: job(complete),
      pods: [pod('Succeeded', { terminated: { exitCode: 0, message: REPORT } })],
    });
    expect(state.phase).toBe('Succeeded');
    expect(state.report?.metrics).toEqual({ val_auc: 0.97, val_accuracy: 0.99, val_loss: 0.05 });
    expect(state.report?.artifact?.uri).toBe('/output/fraud/model.onnx');
    expect(conditionsOf(state)).toMatchObject({ Succeeded: 'True/Completed', Failed: 'False/Succeeded' });
    expect(state.completionTime).toBe('2026-01-01T00:10:00.000Z');
  });

  test("a multi-node run reads rank 0's report, whatever order the pods come in", () => {
    const ranks = [2, 0, 1].map((index) =>
      pod('Succeeded', { index, terminated: { exitCode: 0, message: report({ val_auc: index / 10 }) } }),
    );
    const indexed = job(complete, { completionMode: 'Indexed', completions: 3 });
    expect(decide({ job: indexed, pods: ranks }).report?.metrics).toEqual({ val_auc: 0 });
    // a pod without annotations is no rank 0
    const unannotated = { ...ranks[0]!, metadata: { ...ranks[0]!.metadata, annotations: undefined } };
    expect(decide({ job: indexed, pods: [unannotated, ...ranks] }).report?.metrics).toEqual({ val_auc: 0 });
    // rank 0's pod gone (and only other ranks' reports left): unreadable, never another rank's report
    const withoutRankZero = decide({ job: indexed, pods: [ranks[0]!, ranks[2]!] });
    expect(withoutRankZero.phase).toBe('Failed');
    expect(withoutRankZero.warning?.message).toBe('the succeeded pod of rank 0 is gone, and its report with it');
  });

  test('completed without a readable report: Failed, and the Failed condition says why', () => {
    const state = decide({
      job: job(complete),
      pods: [pod('Succeeded', { terminated: { exitCode: 0, message: 'Traceback (most recent call last)' } })],
    });
    expect(state.phase).toBe('Failed');
    expect(conditionsOf(state)).toMatchObject({ Succeeded: 'False/ReportUnreadable', Failed: 'True/ReportUnreadable' });
    expect(state.warning?.message).toMatch(/not JSON/);
  });

  test('OOMKilled: Failed with reason OOMKilled', () => {
    const state = decide({
      job: job(failed('BackoffLimitExceeded')),
      pods: [pod('Failed', { terminated: { exitCode: 137, reason: 'OOMKilled' } })],
    });
    expect(conditionsOf(state)).toMatchObject({ Failed: 'True/OOMKilled', Succeeded: 'False/OOMKilled' });
    expect(state.warning?.message).toMatch(/ran out of memory/);
  });

  test("the program's own error message, from its last failed pod, becomes the failure message", () => {
    const state = decide({
      job: job(failed('BackoffLimitExceeded')),
      pods: [
        pod('Failed', {
          terminated: { exitCode: 1, message: '{"error":"first try"}', finishedAt: '2026-01-01T00:05:00Z' },
        }),
        pod('Failed', {
          terminated: { exitCode: 2, message: '{"error":"lr must be > 0"}', finishedAt: '2026-01-01T00:09:00Z' },
        }),
      ],
    });
    expect(state.phase).toBe('Failed');
    expect(state.conditions.find((c) => c.type === 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'the training container exited with code 2: lr must be > 0',
    });
  });

  test("bad input stops the run at once: Failed with reason InvalidInput and the program's words", () => {
    const state = decide({
      job: job(failed('PodFailurePolicy')),
      pods: [pod('Failed', { terminated: { exitCode: 2, message: '{"error":"epochs must be >= 1, got 0"}' } })],
    });
    expect(state.conditions.find((c) => c.type === 'Failed')).toMatchObject({
      reason: 'InvalidInput',
      message: 'the training program rejected its input: epochs must be >= 1, got 0',
    });
  });

  test("deadline: Failed with reason DeadlineExceeded and the Job's own message", () => {
    const state = decide({
      job: job(failed('DeadlineExceeded', 'Job was active longer than specified deadline')),
      pods: [pod('Failed', { terminated: { exitCode: 143, reason: 'Error' } })],
    });
    expect(state.conditions.find((c) => c.type === 'Failed')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
  });

  test.each(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName'])(
    '%s shows in Running and as a warning, without failing the run',
    (reason) => {
      const state = decide({
        job: job({ active: 1 }),
        pods: [pod('Pending', { waiting: { reason, message: 'Back-off pulling image "nope"' } })],
      });
      expect(state.phase).toBe('Pending');
      expect(conditionsOf(state)).toMatchObject({ Running: `False/${reason}` });
      expect(state.warning).toEqual({ reason, message: 'Back-off pulling image "nope"' });
    },
  );

  test('a Job refused by the API server: Failed, final, with its message; a Job waiting for something: Pending', () => {
    const refused = decide({ blocked: { final: true, reason: 'JobRejected', message: 'spec.x: Invalid value' } });
    expect(refused.phase).toBe('Failed');
    expect(conditionsOf(refused)).toMatchObject({ Created: 'False/JobRejected', Failed: 'True/JobRejected' });
    const waiting = decide({ blocked: { final: false, reason: 'DRAUnavailable', message: 'no DRA' } });
    expect(waiting.phase).toBe('Pending');
    expect(conditionsOf(waiting)).toMatchObject({ Created: 'False/DRAUnavailable', Failed: 'False/Pending' });
    expect(waiting.warning).toEqual({ reason: 'DRAUnavailable', message: 'no DRA' });
  });

  test('a Job that vanished after it was created: Failed JobDeleted, never created again', () => {
    const state = decide({ previous: wasCreated });
    expect(state.phase).toBe('Failed');
    expect(conditionsOf(state)).toMatchObject({ Created: 'False/JobDeleted', Failed: 'True/JobDeleted' });
  });
});

describe('what each condition says, in full', () => {
  // What `kubectl describe` shows a user, for each way a run goes: type, status, reason and message.
  const full = (state: ReturnType<typeof decideRunState>) =>
    state.conditions.map((c) => `${c.type} ${c.status} ${c.reason}: ${c.message}`);
  const notFinished = (phase: string) => [
    `Succeeded False ${phase}: the run has not finished`,
    `Failed False ${phase}: the run has not finished`,
  ];

  test('no Job yet', () => {
    expect(full(decide({}))).toEqual([
      'Created False Creating: creating the Job',
      'Running False Pending: the run has not started',
      ...notFinished('Pending'),
    ]);
  });

  test('created, its pods not running yet', () => {
    expect(full(decide({ job: job({ active: 1 }), pods: [pod('Pending')] }))).toEqual([
      'Created True JobCreated: Job fraud-1 created',
      'Suspended False Resumed: the run is not suspended',
      'Running False Starting: waiting for the training pods to start',
      ...notFinished('Pending'),
    ]);
  });

  test('running, with the number of pods', () => {
    const state = decide({ job: job({ active: 2 }), pods: [pod('Running'), pod('Running'), pod('Pending')] });
    expect(full(state)).toEqual([
      'Created True JobCreated: Job fraud-1 created',
      'Suspended False Resumed: the run is not suspended',
      'Running True Running: 2 training pod(s) running',
      ...notFinished('Running'),
    ]);
    expect(state.warning).toBeUndefined();
    expect(state.startTime).toBeUndefined();
  });

  test('suspended', () => {
    expect(full(decide({ job: job({}, { suspend: true }) }))).toEqual([
      'Created True JobCreated: Job fraud-1 created',
      'Suspended True Suspended: spec.runPolicy.suspend is true: no pods run',
      'Running False Suspended: the run is suspended',
      ...notFinished('Suspended'),
    ]);
  });

  test('succeeded', () => {
    const state = decide({
      job: job(complete),
      pods: [pod('Succeeded', { terminated: { exitCode: 0, message: REPORT } })],
    });
    expect(full(state)).toEqual([
      'Created True JobCreated: Job fraud-1 created',
      'Running False Completed: the run finished',
      'Suspended False Completed: the run finished',
      'Succeeded True Completed: training completed and reported its metrics',
      'Failed False Succeeded: the run succeeded',
    ]);
    expect(state.warning).toBeUndefined();
    expect(state.startTime).toBe('2026-01-01T00:00:00.000Z');
  });

  test('failed', () => {
    const state = decide({
      job: job(failed('BackoffLimitExceeded')),
      pods: [pod('Failed', { terminated: { exitCode: 3 } })],
    });
    const why = 'the training container exited with code 3';
    expect(full(state)).toEqual([
      'Created True JobCreated: Job fraud-1 created',
      'Running False BackoffLimitExceeded: the run ended',
      'Suspended False Failed: the run ended',
      `Succeeded False BackoffLimitExceeded: ${why}`,
      `Failed True BackoffLimitExceeded: ${why}`,
    ]);
    expect(state.warning).toEqual({ reason: 'BackoffLimitExceeded', message: why });
  });

  test('the report unreadable', () => {
    const state = decide({ job: job(complete), pods: [pod('Succeeded', { terminated: { exitCode: 0 } })] });
    const why = 'the training container wrote no termination message';
    expect(full(state).slice(3)).toEqual([
      `Succeeded False ReportUnreadable: ${why}`,
      `Failed True ReportUnreadable: ${why}`,
    ]);
    expect(state.warning).toEqual({ reason: 'ReportUnreadable', message: why });
  });

  test('refused, waiting, or its Job deleted', () => {
    expect(full(decide({ blocked: { final: true, reason: 'JobRejected', message: 'no' } }))).toEqual([
      'Created False JobRejected: no',
      'Running False JobRejected: no Job',
      'Succeeded False JobRejected: no',
      'Failed True JobRejected: no',
    ]);
    expect(full(decide({ blocked: { final: false, reason: 'NameConflict', message: 'taken' } }))).toEqual([
      'Created False NameConflict: taken',
      'Running False NameConflict: no Job',
      ...notFinished('Pending'),
    ]);
    const deleted = decide({ previous: wasCreated });
    expect(deleted.warning).toEqual({
      reason: 'JobDeleted',
      message:
        'the Job was deleted before the run finished, so its outcome is unknown; create a new TrainingJob to train again',
    });
  });
});

describe('why a run failed', () => {
  const failure = (status: Parameters<typeof job>[0], ...pods: ReturnType<typeof pod>[]) =>
    decide({ job: job(status), pods }).warning;

  test('the last pod to finish speaks for the run, whatever order the pods are listed in', () => {
    const early = pod('Failed', { terminated: { exitCode: 1, message: 'first', finishedAt: '2026-01-01T00:05:00Z' } });
    const late = pod('Failed', { terminated: { exitCode: 2, message: 'last', finishedAt: '2026-01-01T00:09:00Z' } });
    const running = pod('Running');
    // Neither a rank that succeeded later, a failed pod without a finish time or container state, nor one without a status.
    const succeededLater = pod('Succeeded', { terminated: { exitCode: 0, finishedAt: '2026-01-01T00:10:00Z' } });
    const noFinishTime = pod('Failed', { terminated: { exitCode: 3, message: 'no time' } });
    const noState = pod('Failed');
    const noStatus = { ...pod('Pending'), status: undefined };
    const expected = { reason: 'BackoffLimitExceeded', message: 'the training container exited with code 2: last' };
    expect(failure(failed('BackoffLimitExceeded'), late, early, running)).toEqual(expected);
    expect(failure(failed('BackoffLimitExceeded'), early, late)).toEqual(expected);
    expect(failure(failed('BackoffLimitExceeded'), succeededLater, late, noFinishTime, noState, noStatus)).toEqual(
      expected,
    );
    expect(failure(failed('BackoffLimitExceeded'), noStatus, noState, late, noFinishTime)).toEqual(expected);
  });

  test('without words of its own, or without a pod: what is known, no dangling colon', () => {
    expect(
      failure(failed('BackoffLimitExceeded'), pod('Failed', { terminated: { exitCode: 1, message: ' ' } })),
    ).toEqual({ reason: 'BackoffLimitExceeded', message: 'the training container exited with code 1' });
    expect(failure(failed('BackoffLimitExceeded', 'Job has reached the specified backoff limit'))).toEqual({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(failure(failed('BackoffLimitExceeded'))).toEqual({
      reason: 'BackoffLimitExceeded',
      message: 'the Job failed',
    });
    // a Failed condition without a reason
    expect(failure({ conditions: [{ type: 'Failed', status: 'True' }] })).toEqual({
      reason: 'Failed',
      message: 'the Job failed',
    });
    // a Failed condition that is not True is no failure
    expect(decide({ job: job({ conditions: [{ type: 'Failed', status: 'False' }] }) }).phase).toBe('Pending');
  });

  test("a deadline without the Job's message; bad input without the program's words", () => {
    expect(failure(failed('DeadlineExceeded'))).toEqual({
      reason: 'DeadlineExceeded',
      message: 'the run exceeded activeDeadlineSeconds',
    });
    expect(failure(failed('PodFailurePolicy'), pod('Failed', { terminated: { exitCode: 2 } }))).toEqual({
      reason: 'InvalidInput',
      message: 'the training program rejected its input',
    });
    // the pod failure policy without a pod left to say why
    expect(failure(failed('PodFailurePolicy'))).toEqual({ reason: 'PodFailurePolicy', message: 'the Job failed' });
    // another exit code under the pod failure policy is not bad input
    expect(failure(failed('PodFailurePolicy'), pod('Failed', { terminated: { exitCode: 1 } }))).toEqual({
      reason: 'PodFailurePolicy',
      message: 'the training container exited with code 1',
    });
  });

  test('out of memory, in full', () => {
    expect(
      failure(failed('BackoffLimitExceeded'), pod('Failed', { terminated: { exitCode: 137, reason: 'OOMKilled' } })),
    ).toEqual({
      reason: 'OOMKilled',
      message: 'the training container ran out of memory (exit code 137); raise spec.resources.memory',
    });
  });
});

describe('what keeps pods from running', () => {
  test('ErrImageNeverPull is an image problem too; without a message the reason is named', () => {
    const state = decide({
      job: job({ active: 1 }),
      pods: [pod('Pending', { waiting: { reason: 'ErrImageNeverPull' } })],
    });
    expect(state.warning).toEqual({
      reason: 'ErrImageNeverPull',
      message: 'cannot pull the training image (ErrImageNeverPull)',
    });
  });

  test('a container waiting for another reason, or a pod without a status yet, is no problem', () => {
    const state = decide({
      job: job({ active: 1 }),
      pods: [
        { ...pod('Pending'), status: undefined },
        {
          ...pod('Pending'),
          status: {
            phase: 'Pending',
            containerStatuses: [{ ...pod('Pending').status!.containerStatuses![0]!, state: undefined }],
          },
        },
        pod('Pending', { waiting: { reason: 'ContainerCreating' } }),
      ],
    });
    expect(state.warning).toBeUndefined();
    expect(conditionsOf(state).Running).toBe('False/Starting');
  });

  test('the image problem of any pod, before a scheduling problem; a scheduled pod is no problem', () => {
    const unschedulable = pod('Pending');
    unschedulable.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }];
    const scheduled = pod('Pending');
    scheduled.status!.conditions = [{ type: 'PodScheduled', status: 'True', reason: 'Unschedulable' }];
    const pulling = pod('Pending', { waiting: { reason: 'ErrImagePull', message: 'no such image' } });
    expect(decide({ job: job({ active: 2 }), pods: [pod('Running'), unschedulable] }).warning).toEqual({
      reason: 'Unschedulable',
      message: 'no node can run the training pod',
    });
    expect(decide({ job: job({ active: 2 }), pods: [unschedulable, pulling] }).warning?.reason).toBe('ErrImagePull');
    expect(decide({ job: job({ active: 1 }), pods: [scheduled] }).warning).toBeUndefined();
    // Not scheduled yet for another reason (a scheduling gate): no problem to report.
    const gated = pod('Pending');
    gated.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }];
    expect(decide({ job: job({ active: 1 }), pods: [gated] }).warning).toBeUndefined();
  });

  test('a pod running beside a blocked one does not make the run Running', () => {
    const pulling = pod('Pending', { waiting: { reason: 'ImagePullBackOff' } });
    expect(decide({ job: job({ active: 2 }), pods: [pod('Running'), pulling] }).phase).toBe('Pending');
  });
});

test('a single-node run reads the report of the pod that succeeded, not of a failed try before it', () => {
  // Its pod carries no completion index (the Job is not Indexed); a pod without a status yet is skipped.
  const succeeded = pod('Succeeded', { terminated: { exitCode: 0, message: report({ val_auc: 0.9 }) } });
  const state = decide({
    job: job(complete),
    pods: [
      { ...pod('Pending'), status: undefined },
      pod('Failed', { terminated: { exitCode: 1, message: report({ val_auc: 0.1 }) } }),
      { ...succeeded, metadata: { ...succeeded.metadata, annotations: {} } },
    ],
  });
  expect(state.report?.metrics).toEqual({ val_auc: 0.9 });
  // Its container's state gone from the pod's status: no report to read.
  const stateless = decide({ job: job(complete), pods: [{ ...succeeded, status: { phase: 'Succeeded' } }] });
  expect(stateless.warning?.message).toBe('the training container wrote no termination message');
});
