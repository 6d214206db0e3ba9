// The status one pass writes and the Events it sends, from the run and its registration.
import { decideRunState, type RunState } from './state.js';
import { desiredStatus, passEvents, type Pass } from './status.js';
import { registered, registering } from './register.js';
import { complete, failed, job, pod, REPORT, trainingJob } from './fixtures.test-helpers.js';

const tj = trainingJob({ nodes: 2, gpus: { count: 4 } });
const run = (phase: RunState['phase'], extra: Partial<RunState> = {}): RunState => ({
  phase,
  conditions: [],
  ...extra,
});
const finishedAndReady = (pass: Pass) =>
  (desiredStatus(pass).conditions as { type: string; status: string; reason: string; message: string }[])
    .filter((c) => c.type === 'Finished' || c.type === 'Ready')
    .map((c) => `${c.type} ${c.status} ${c.reason}: ${c.message}`);

describe('desiredStatus', () => {
  test('a succeeded run: its phase, GPUs over all nodes, times, Job, metrics, headline, artifact and reference', () => {
    const succeeded = decideRunState({
      job: job(complete),
      pods: [pod('Succeeded', { terminated: { exitCode: 0, message: REPORT } })],
      previous: undefined,
    });
    const outcome = {
      metrics: { val_loss: 0.05, val_auc: 0.97123 },
      artifact: { uri: 'pvc://models/fraud/model.onnx' },
      reference: { uri: 'pvc://models/fraud/reference.json' },
    };
    const status = desiredStatus({ tj, run: succeeded, outcome });
    expect(status).toEqual({
      phase: 'Succeeded',
      gpus: 8,
      conditions: expect.any(Array) as unknown,
      jobName: 'fraud-1',
      startTime: '2026-01-01T00:00:00.000Z',
      completionTime: '2026-01-01T00:10:00.000Z',
      metrics: outcome.metrics,
      headlineMetric: 'val_auc=0.9712',
      artifact: outcome.artifact,
      reference: outcome.reference,
    });
  });

  test('a run whose Job was never created names no Job, and one without times or outcome writes none', () => {
    const status = desiredStatus({ tj, run: decideRunState({ job: undefined, pods: [], previous: undefined }) });
    expect(Object.keys(status).sort()).toEqual(['conditions', 'gpus', 'phase']);
  });

  test('a succeeded run that reported no artifact, reference or metric writes none of them (an undefined field would remove it)', () => {
    const status = desiredStatus({ tj, run: run('Succeeded'), outcome: { metrics: {} } });
    expect(Object.keys(status).sort()).toEqual(['conditions', 'gpus', 'metrics', 'phase']);
  });

  test('the headline is the gate metric, else val_auc, else the first metric, else none', () => {
    const headline = (metrics: Record<string, number>, gateMetric?: string) =>
      desiredStatus({
        tj: trainingJob(
          gateMetric
            ? { register: { modelName: 'fraud', gate: [{ metric: gateMetric, operator: '<', threshold: 1 }] } }
            : {},
        ),
        run: run('Succeeded'),
        outcome: { metrics },
      }).headlineMetric;
    expect(headline({ accuracy: 0.9, val_auc: 0.8, val_loss: 0.1 }, 'val_loss')).toBe('val_loss=0.1');
    expect(headline({ accuracy: 0.9, val_auc: 0.8 })).toBe('val_auc=0.8');
    expect(headline({ accuracy: 0.912345, f1: 0.5 })).toBe('accuracy=0.9123');
    expect(headline({})).toBeUndefined();
    expect(headline({ accuracy: 0.9 }, 'val_loss')).toBeUndefined(); // the gate's metric was not reported
    // The API server defaults gate to [] when register is given: no gate metric, so val_auc.
    const emptyGate = trainingJob({ register: { modelName: 'fraud', gate: [] } });
    expect(
      desiredStatus({ tj: emptyGate, run: run('Succeeded'), outcome: { metrics: { val_auc: 0.8 } } }).headlineMetric,
    ).toBe('val_auc=0.8');
  });

  test('Finished and Ready: not finished; failed; registering; registered; succeeded without registration', () => {
    expect(finishedAndReady({ tj, run: run('Running') })).toEqual([
      'Finished False Running: the run has not finished',
      'Ready False Running: the run has not finished',
    ]);
    const failedRun = decideRunState({
      job: job(failed('DeadlineExceeded', 'too long')),
      pods: [],
      previous: undefined,
    });
    expect(finishedAndReady({ tj, run: failedRun })).toEqual([
      'Finished True DeadlineExceeded: too long',
      'Ready False DeadlineExceeded: too long',
    ]);
    expect(finishedAndReady({ tj, run: run('Failed') })).toEqual([
      'Finished True Failed: the run failed',
      'Ready False Failed: the run failed',
    ]);
    const withRegister = trainingJob({ register: { modelName: 'fraud' } });
    expect(finishedAndReady({ tj, run: run('Succeeded'), registration: registering(withRegister, 'timeout') })).toEqual(
      [
        'Finished False Registering: registering ModelVersion fraud-fraud-1: timeout',
        'Ready False Registering: registering ModelVersion fraud-fraud-1: timeout',
      ],
    );
    const done = ['Finished True Succeeded: training completed', 'Ready True Succeeded: training completed'];
    expect(finishedAndReady({ tj, run: run('Succeeded'), registration: registered('fraud-v1', 'no gate') })).toEqual(
      done,
    );
    expect(finishedAndReady({ tj, run: run('Succeeded') })).toEqual(done);
  });

  test('the registration adds its condition and its status fields', () => {
    const status = desiredStatus({ tj, run: run('Succeeded'), registration: registered('fraud-v1', 'gate passed') });
    expect(status).toMatchObject({ modelVersion: 'fraud-v1', gateMessage: 'gate passed' });
    expect(status.conditions).toContainEqual({
      type: 'Registered',
      status: 'True',
      reason: 'GatePassed',
      message: 'registered ModelVersion fraud-v1: gate passed',
    });
  });
});

describe('passEvents', () => {
  const events = (previous: RunState['phase'] | undefined, pass: Omit<Pass, 'tj'>) =>
    passEvents(previous, { tj, ...pass }).map((e) => `${e.type} ${e.reason}: ${e.message}`);

  test('one Event per change of phase, none without one', () => {
    expect(events('Pending', { run: run('Running') })).toEqual(['Normal Running: training pods are running']);
    expect(events('Suspended', { run: run('Running') })).toEqual(['Normal Resumed: the run is resumed']);
    expect(events('Running', { run: run('Suspended') })).toEqual(['Normal Suspended: the run is suspended']);
    expect(events('Running', { run: run('Succeeded') })).toEqual(['Normal Succeeded: training completed']);
    expect(events('Running', { run: run('Failed') })).toEqual(['Warning Failed: the run failed']);
    expect(events('Running', { run: run('Failed', { warning: { reason: 'OOMKilled', message: 'm' } }) })).toEqual([
      'Warning OOMKilled: m',
    ]);
    expect(events('Running', { run: run('Running') })).toEqual([]);
    expect(events(undefined, { run: run('Pending') })).toEqual([]);
  });

  test('the Job created first; a problem short of failure every pass; the registration last', () => {
    const pulling = run('Pending', { warning: { reason: 'ErrImagePull', message: 'no image' } });
    expect(events(undefined, { run: pulling, createdJob: 'fraud-1' })).toEqual([
      'Normal Created: created Job fraud-1',
      'Warning ErrImagePull: no image',
    ]);
    expect(events('Pending', { run: pulling })).toEqual(['Warning ErrImagePull: no image']);
    expect(events('Running', { run: run('Succeeded'), registration: registered('fraud-v1', 'ok') })).toEqual([
      'Normal Succeeded: training completed',
      'Normal Registered: registered ModelVersion fraud-v1: ok',
    ]);
  });
});
