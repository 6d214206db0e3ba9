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
