import { failureMessage, parseReport, terminatedState } from './report.js';
import type { Pod } from '../resources.js';
import { pod } from './fixtures.test-helpers.js';
import { TRAINER_CONTAINER } from './job.js';

describe('parseReport', () => {
  test('metrics, artifact and reference from the JSON the program wrote', () => {
    const parsed = parseReport(
      JSON.stringify({
        metrics: { val_auc: 0.97 },
        artifact: { uri: '/output/m.onnx', digest: 'sha256:x' },
        reference: { uri: '/output/r.json' },
      }),
    );
    expect(parsed).toEqual({
      ok: true,
      report: {
        metrics: { val_auc: 0.97 },
        artifact: { uri: '/output/m.onnx', digest: 'sha256:x' },
        reference: { uri: '/output/r.json' },
      },
    });
  });

  test('only finite numbers are metrics: strings, null, NaN-ish and nested values are left out', () => {
    const parsed = parseReport(
      '{"metrics":{"val_auc":0.9,"val_loss":"0.1","epochs":null,"best":{"x":1},"big":1e400,"ok":3}}',
    );
    expect(parsed.ok && parsed.report.metrics).toEqual({ val_auc: 0.9, ok: 3 });
  });

  test.each([
    [undefined, 'the training container wrote no termination message'],
    ['  ', 'the training container wrote no termination message'],
    ['Traceback (most recent call last)', 'the termination message is not JSON: Traceback (most recent call last)'],
    ['[1,2]', 'the termination message is not a JSON object'],
    ['null', 'the termination message is not a JSON object'],
    [`<${'x'.repeat(199)}`, `the termination message is not JSON: <${'x'.repeat(199)}`],
    [`<${'x'.repeat(200)}`, `the termination message is not JSON: <${'x'.repeat(199)}…`],
    ['{"artifact":{"uri":"x"}}', 'the termination message has no "metrics" object'],
    ['{"metrics":[0.9]}', 'the termination message has no "metrics" object'],
  ])('%j is refused: %s', (message, error) => {
    expect(parseReport(message)).toEqual({ ok: false, error });
  });

  test('a digest that is not a string is left out', () => {
    const parsed = parseReport('{"metrics":{},"artifact":{"uri":"/output/m.onnx","digest":7}}');
    expect(parsed.ok && parsed.report.artifact).toEqual({ uri: '/output/m.onnx' });
  });

  test('an artifact without a string uri is no artifact', () => {
    const parsed = parseReport('{"metrics":{},"artifact":{"uri":7},"reference":"r.json"}');
    expect(parsed).toEqual({ ok: true, report: { metrics: {}, artifact: undefined, reference: undefined } });
  });
});

describe('failureMessage', () => {
  test("the program's own error, else the log tail (truncated), else nothing", () => {
    expect(failureMessage('{"error":"CUDA out of memory"}')).toBe('CUDA out of memory');
    expect(failureMessage('  Traceback: boom \n')).toBe('Traceback: boom');
    expect(failureMessage('x'.repeat(600))).toBe(`${'x'.repeat(512)}…`);
    expect(failureMessage('{"status":"bad"}')).toBe('{"status":"bad"}');
    expect(failureMessage(undefined)).toBeUndefined();
    expect(failureMessage(' ')).toBeUndefined();
    expect(failureMessage('x'.repeat(512))).toBe('x'.repeat(512));
    expect(failureMessage('{"error":{"code":5}}')).toBe('{"error":{"code":5}}'); // not a message of its own
    expect(failureMessage('null')).toBe('null');
  });
});

const sidecar = { name: 'sidecar', image: 'x', imageID: '', ready: false, restartCount: 0 };
test.each<{ case: string; pod: () => Pod; terminated?: object }>([
  {
    case: "the trainer container's, not a sidecar's",
    pod: () => {
      const p = pod('Failed', { terminated: { exitCode: 137, reason: 'OOMKilled' } });
      p.status!.containerStatuses!.unshift({ ...sidecar, state: { terminated: { exitCode: 0 } } });
      return p;
    },
    terminated: { exitCode: 137, reason: 'OOMKilled' },
  },
  { case: 'none while the trainer runs', pod: () => pod('Running') },
  { case: 'none for a pod without a status yet', pod: () => ({ ...pod('Pending'), status: undefined }) },
  { case: 'none before any container has a status', pod: () => ({ ...pod('Pending'), status: { phase: 'Pending' } }) },
  {
    case: "none when only a sidecar's ended",
    pod: () => ({
      ...pod('Running'),
      status: { phase: 'Running', containerStatuses: [{ ...sidecar, state: { terminated: { exitCode: 0 } } }] },
    }),
  },
  {
    case: 'none when the trainer reports no state',
    pod: () => ({
      ...pod('Pending'),
      status: { phase: 'Pending', containerStatuses: [{ ...sidecar, name: TRAINER_CONTAINER }] },
    }),
  },
])('terminatedState: $case', ({ pod: make, terminated }) => {
  expect(terminatedState(make())).toEqual(terminated);
});
