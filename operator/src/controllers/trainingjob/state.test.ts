import { decideRunState } from './state.js';
import { job, pod, complete, REPORT } from './fixtures.test-helpers.js';

const conditionsOf = (state: ReturnType<typeof decideRunState>) =>
  Object.fromEntries(state.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('decideRunState', () => {
  test('no Job yet: Pending, not Created', () => {
    const state = decideRunState(undefined, []);
    expect(state.phase).toBe('Pending');
    expect(conditionsOf(state)).toMatchObject({ Created: 'False/Creating', Ready: 'False/Pending' });
  });

  test('running pods: Running', () => {
    const state = decideRunState(job({ active: 1, startTime: new Date('2026-01-01T00:00:00Z') }), [pod('Running')]);
    expect(state.phase).toBe('Running');
    expect(conditionsOf(state)).toMatchObject({
      Created: 'True/JobCreated',
      Running: 'True/Running',
      Suspended: 'False/Resumed',
    });
    expect(state.startTime).toBe('2026-01-01T00:00:00.000Z');
  });

  test("a pod the scheduler cannot place: Pending, with the scheduler's message", () => {
    const unschedulable = pod('Pending', undefined);
    unschedulable.status!.containerStatuses = undefined;
    unschedulable.status!.conditions = [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.',
      },
    ];
    const state = decideRunState(job({ active: 1 }), [unschedulable]);
    expect(state.phase).toBe('Pending');
    expect(conditionsOf(state)).toMatchObject({ Running: 'False/Unschedulable' });
    expect(state.warning).toEqual({
      reason: 'Unschedulable',
      message: '0/5 nodes are available: 5 Insufficient nvidia.com/gpu.',
    });
  });

  test('a suspended Job: Suspended', () => {
    const state = decideRunState(job({}, { suspend: true }), []);
    expect(state.phase).toBe('Suspended');
    expect(conditionsOf(state)).toMatchObject({ Suspended: 'True/Suspended', Running: 'False/Suspended' });
  });

  test('completed with a report: Succeeded with the metrics and artifact', () => {
    const state = decideRunState(job(complete), [pod('Succeeded', { exitCode: 0, message: REPORT })]);
    expect(state.phase).toBe('Succeeded');
    expect(state.report?.metrics).toEqual({ val_auc: 0.97, val_accuracy: 0.99, val_loss: 0.05 });
    expect(state.report?.artifact?.uri).toBe('/output/fraud/model.onnx');
    expect(conditionsOf(state)).toMatchObject({
      Succeeded: 'True/Completed',
      Ready: 'True/Succeeded',
      Failed: 'False/Completed',
    });
    expect(state.completionTime).toBe('2026-01-01T00:10:00.000Z');
  });

  test('completed without a readable report: not Succeeded, and says why', () => {
    const state = decideRunState(job(complete), [
      pod('Succeeded', { exitCode: 0, message: 'Traceback (most recent call last)' }),
    ]);
    expect(state.phase).toBe('Failed');
    expect(conditionsOf(state)).toMatchObject({ Succeeded: 'False/ReportUnreadable' });
    expect(state.warning?.message).toMatch(/not JSON/);
  });

  test('OOMKilled: Failed with reason OOMKilled', () => {
    const state = decideRunState(
      job({ conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }),
      [pod('Failed', { exitCode: 137, reason: 'OOMKilled' })],
    );
    expect(conditionsOf(state)).toMatchObject({ Failed: 'True/OOMKilled', Ready: 'False/OOMKilled' });
    expect(state.warning?.message).toMatch(/ran out of memory/);
  });

  test("the program's own error message becomes the failure message", () => {
    const state = decideRunState(
      job({ conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }),
      [pod('Failed', { exitCode: 2, message: '{"error":"hyperparameter lr must be > 0"}' })],
    );
    expect(state.phase).toBe('Failed');
    expect(state.conditions.find((c) => c.type === 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'the training container exited with code 2: hyperparameter lr must be > 0',
    });
  });

  test("bad input stops the run at once: Failed with reason InvalidInput and the program's words", () => {
    const state = decideRunState(
      job({ conditions: [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy' }] }),
      [pod('Failed', { exitCode: 2, message: '{"error":"hyperparameter \'epochs\' must be an integer >= 1, got 0"}' })],
    );
    expect(state.conditions.find((c) => c.type === 'Failed')).toMatchObject({
      reason: 'InvalidInput',
      message: "the training program rejected its input: hyperparameter 'epochs' must be an integer >= 1, got 0",
    });
  });

  test('deadline: Failed with reason DeadlineExceeded', () => {
    const state = decideRunState(
      job({
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          },
        ],
      }),
      [],
    );
    expect(conditionsOf(state)).toMatchObject({ Failed: 'True/DeadlineExceeded' });
  });

  test('image pull failures show in Running and as a warning, without failing the run', () => {
    const state = decideRunState(job({ active: 1 }), [
      pod('Pending', undefined, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' }),
    ]);
    expect(state.phase).toBe('Pending');
    expect(conditionsOf(state)).toMatchObject({ Running: 'False/ImagePullBackOff' });
    expect(state.warning).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' });
  });
});
