import type * as ort from 'onnxruntime-node';
import { LoadedModel, type ModelSignature } from './loaded-model.js';

/** A session whose runs finish when the test says, counting its releases. */
function fakeSession() {
  const runs: (() => void)[] = [];
  const session = {
    releases: 0,
    run: () =>
      new Promise((resolve) =>
        runs.push(() => resolve({ y: { dims: [1, 1], data: Float32Array.from([1]) } as unknown as ort.Tensor })),
      ),
    release: async () => void session.releases++,
  };
  return { session, finishRun: () => runs.shift()!() };
}

const signature = (batchable: boolean): ModelSignature => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [batchable ? -1 : 1, 1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [batchable ? -1 : 1, 1] }],
  batchable,
});
const input = [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: Float32Array.from([0]) }];
const model = (session: object, batchable: boolean) =>
  new LoadedModel(
    session as unknown as ort.InferenceSession,
    signature(batchable),
    { modelUri: 'm', referenceUri: 'r' },
    undefined,
    { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
    { fetch: 0, session: 0, reference: 0, warmUp: 0 },
  );

test.each([true, false])(
  'batchable %p: a retired model is released once, after its last request',
  async (batchable) => {
    const { session, finishRun } = fakeSession();
    const loaded = model(session, batchable);
    const running = loaded.infer(input, 1);
    await new Promise(setImmediate); // the run has started
    loaded.retire();
    expect(session.releases).toBe(0);
    finishRun();
    await running;
    await new Promise(setImmediate);
    expect(session.releases).toBe(1);
    loaded.retire();
    expect(session.releases).toBe(1);
  },
);

test('a retired model with nothing running is released at once', () => {
  const { session } = fakeSession();
  model(session, true).retire();
  expect(session.releases).toBe(1);
});
