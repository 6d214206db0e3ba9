import type * as ort from 'onnxruntime-node';
import type { Reference } from '../reference.js';
import { LoadedModel, signatureOf, type ModelSignature } from './loaded-model.js';

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
  'batchable %p: a retired model is released once, after its last request (a serving one never)',
  async (batchable) => {
    const { session, finishRun } = fakeSession();
    const loaded = model(session, batchable);
    const answered = loaded.infer(input, 1);
    await new Promise(setImmediate);
    finishRun();
    await answered;
    await new Promise(setImmediate);
    expect(session.releases).toBe(0); // still serving
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

describe('signatureOf', () => {
  const value = (name: string, type: string, shape: (number | string)[], isTensor = true) => ({
    name,
    isTensor,
    type,
    shape,
  });
  const session = (inputs: object[], outputs: object[]) =>
    ({ inputMetadata: inputs, outputMetadata: outputs }) as unknown as ort.InferenceSession;

  test('names, protocol datatypes and shapes, with symbolic and unknown dimensions as -1', () => {
    const signature = signatureOf(
      session(
        // A symbolic dimension named like a number is still any size.
        [value('x', 'float32', ['batch', 3]), value('ids', 'int64', [-1]), value('n', 'int64', ['8'])],
        [value('probabilities', 'float32', ['batch', 2]), value('label', 'string', [-1, 0])],
      ),
    );
    expect(signature).toEqual({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 3] },
        { name: 'ids', datatype: 'INT64', shape: [-1] },
        { name: 'n', datatype: 'INT64', shape: [-1] },
      ],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        { name: 'label', datatype: 'BYTES', shape: [-1, 0] },
      ],
      batchable: true,
    });
  });

  test.each([
    ['an input', [value('x', 'float32', [1, 3])], [value('y', 'float32', [-1])]],
    ['an output', [value('x', 'float32', [-1, 3])], [value('y', 'float32', [4])]],
  ])('a model is not batchable when %s has a fixed first dimension', (_, inputs, outputs) => {
    expect(signatureOf(session(inputs, outputs)).batchable).toBe(false);
  });

  test.each([
    [[value('m', 'float32', [], false)], [], /input 'm' is not a tensor; only tensor inputs are served/],
    [[], [value('seq', 'float32', [], false)], /output 'seq' is not a tensor; only tensor outputs are served/],
    [[value('c', 'complex64', [1])], [], /input 'c' has type complex64, which the Open Inference Protocol cannot/],
  ])('refuses what the protocol cannot carry %#', (inputs, outputs, message) => {
    expect(() => signatureOf(session(inputs, outputs))).toThrow(message);
  });
});

describe('the prediction output (for score histograms and score shifts)', () => {
  const withOutputs = (outputs: ModelSignature['outputs'], reference?: { output: string }) =>
    new LoadedModel(
      fakeSession().session as unknown as ort.InferenceSession,
      { inputs: [], outputs, batchable: false },
      { modelUri: 'm', referenceUri: 'r' },
      reference && ({ prediction: { output: reference.output } } as unknown as Reference),
      { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
      { fetch: 0, session: 0, reference: 0, warmUp: 0 },
    ).predictionOutput;
  const outputs: ModelSignature['outputs'] = [
    { name: 'label', datatype: 'INT64', shape: [-1, 1] },
    { name: 'raw', datatype: 'FP32', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    { name: 'logits', datatype: 'FP32', shape: [-1, 2] },
  ];

  test('is the one the reference names', () => {
    expect(withOutputs(outputs, { output: 'logits' })).toBe(3);
    expect(withOutputs(outputs, { output: 'label' })).toBe(0);
  });

  test('without a reference, is the first FP32 [batch, classes] output', () => {
    expect(withOutputs(outputs)).toBe(2);
    expect(withOutputs(outputs.slice(0, 2))).toBeUndefined();
    expect(withOutputs(outputs, { output: 'missing' })).toBeUndefined();
  });
});

test('warming up runs the model once on zeros, dynamic dimensions as 1', async () => {
  const feeds: Record<string, ort.Tensor>[] = [];
  const session = {
    run: async (given: Record<string, ort.Tensor>) => (
      feeds.push(given),
      { y: { dims: [1], data: new Float32Array(1) } }
    ),
    release: async () => undefined,
  };
  const loaded = new LoadedModel(
    session as unknown as ort.InferenceSession,
    {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 3] },
        { name: 'ids', datatype: 'INT64', shape: [2] },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
      batchable: false,
    },
    { modelUri: 'm', referenceUri: 'r' },
    undefined,
    { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
    { fetch: 0, session: 0, reference: 0, warmUp: 0 },
  );
  await loaded.warmUp();
  expect(feeds).toHaveLength(1);
  const { x, ids } = feeds[0]!;
  expect([x!.type, x!.dims, Array.from(x!.data as Float32Array)]).toEqual(['float32', [1, 3], [0, 0, 0]]);
  expect([ids!.type, ids!.dims, Array.from(ids!.data as BigInt64Array)]).toEqual(['int64', [2], [0n, 0n]]);
});

test('outputs come back in the signature order, whatever order the session returns them in', async () => {
  const session = {
    run: async () => ({
      b: { dims: [1], data: Float32Array.of(2) },
      a: { dims: [1, 1], data: Float32Array.of(1) },
    }),
    release: async () => undefined,
  };
  const loaded = new LoadedModel(
    session as unknown as ort.InferenceSession,
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1] }],
      outputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 1] },
        { name: 'b', datatype: 'FP32', shape: [1] },
      ],
      batchable: false,
    },
    { modelUri: 'm', referenceUri: 'r' },
    undefined,
    { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
    { fetch: 0, session: 0, reference: 0, warmUp: 0 },
  );
  const outputs = await loaded.infer(input, 1);
  expect(outputs.map(({ name, shape, data }) => [name, shape, Array.from(data as Float32Array)])).toEqual([
    ['a', [1, 1], [1]],
    ['b', [1], [2]],
  ]);
});
