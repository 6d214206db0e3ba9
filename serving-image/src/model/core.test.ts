// The inference core on its own: loading and swapping models, resolving names and versions, inference and its
// errors, with a loader that hands out models over scripted sessions (the HTTP tests use the real fixture).
import { jest } from '@jest/globals';
import type * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { InferenceCore, type CoreObserver } from './core.js';
import { FaultInjector } from './faults.js';
import { LoadedModel, type ModelSignature, type ModelSource } from './loaded-model.js';
import type { Tensor } from './tensor.js';

const SIGNATURE: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
  ],
  batchable: false,
};
const input = (rows = 1): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [rows, 2],
  data: new Float32Array(rows * 2),
});

/** A session answering label 1 and probabilities [0.25, 0.75] per row, or `fail`'s error; runs can be held. */
function session(options: { fail?: string; hold?: Promise<void> } = {}) {
  const state = {
    releases: 0,
    run: async (feeds: Record<string, ort.Tensor>) => {
      await options.hold;
      if (options.fail) throw new Error(options.fail);
      const rows = feeds.x!.dims[0]!;
      return {
        label: { dims: [rows], data: new BigInt64Array(rows).fill(1n) },
        probabilities: {
          dims: [rows, 2],
          data: Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? 0.75 : 0.25)),
        },
      };
    },
    release: async () => void state.releases++,
  };
  return state;
}

function harness(options: { loadRetryMillis?: number; faults?: FaultInjector; signature?: ModelSignature } = {}) {
  const loads: ModelSource[] = [];
  const sessions: ReturnType<typeof session>[] = [];
  /** Model URIs whose load fails, and how many more times. */
  const failing = new Map<string, number>();
  /** A load of this URI waits for the promise. */
  const gates = new Map<string, Promise<void>>();
  let nextSession: Parameters<typeof session>[0] = {};
  const events: string[] = [];
  const observer: CoreObserver = {
    modelLoaded: (model, version) => events.push(`loaded ${model.source.modelUri} ${version}`),
    modelUnloaded: () => events.push('unloaded'),
    inferred: (_model, inputs, outputs) =>
      events.push(`inferred ${inputs.map((t) => t.name)} → ${outputs.map((t) => t.name)}`),
  };
  const logs: { level: number; msg: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const core = new InferenceCore({
    name: 'fraud',
    version: '1',
    source: { modelUri: '/models/v1/model.onnx', referenceUri: '/models/v1/reference.json' },
    loader: async (source) => {
      loads.push(source);
      await gates.get(source.modelUri);
      const left = failing.get(source.modelUri) ?? 0;
      if (left > 0) {
        failing.set(source.modelUri, left - 1);
        throw new Error(`${source.modelUri} not found`);
      }
      const scripted = session(nextSession);
      sessions.push(scripted);
      return new LoadedModel(
        scripted as unknown as ort.InferenceSession,
        options.signature ?? SIGNATURE,
        source,
        undefined,
        { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
        { fetch: 1, session: 2, reference: 3, warmUp: 4 },
      );
    },
    observer,
    logger,
    loadRetryMillis: options.loadRetryMillis ?? 0,
    faults: options.faults,
  });
  const scriptNextSession = (next: Parameters<typeof session>[0]) => (nextSession = next);
  return { core, loads, sessions, failing, gates, events, logs, scriptNextSession };
}

const values = (tensor: Tensor): number[] => Array.from(tensor.data as ArrayLike<number | bigint>, Number);

describe('loading', () => {
  afterEach(() => jest.useRealTimers());

  test('the first load makes it ready and logs what was loaded and how long each phase took', async () => {
    jest.useFakeTimers();
    const { core, loads, events, logs, gates } = harness();
    let open: () => void = () => undefined;
    gates.set('/models/v1/model.onnx', new Promise((resolve) => (open = resolve)));
    expect(core.isReady()).toBe(false);
    jest.advanceTimersByTime(60_000); // the server has been up a minute
    const starting = core.start();
    await jest.advanceTimersByTimeAsync(250); // the load takes 250 ms
    open();
    await starting;
    expect(core.isReady()).toBe(true);
    expect(loads).toEqual([{ modelUri: '/models/v1/model.onnx', referenceUri: '/models/v1/reference.json' }]);
    expect(events).toEqual(['loaded /models/v1/model.onnx 1']);
    expect(logs.map((line) => line.msg)).toEqual(['loading model', 'model loaded, warmed and serving']);
    expect(logs[1]).toMatchObject({
      modelUri: '/models/v1/model.onnx',
      referenceUri: '/models/v1/reference.json',
      version: '1',
      inputs: SIGNATURE.inputs,
      outputs: SIGNATURE.outputs,
      batching: false,
      reference: false,
      phases: { fetch: 1, session: 2, reference: 3, warmUp: 4 },
      millis: 250,
    });
  });

  test('a failed first load leaves it not ready and is retried on the interval until one succeeds', async () => {
    jest.useFakeTimers();
    const { core, loads, failing, logs } = harness({ loadRetryMillis: 1000 });
    failing.set('/models/v1/model.onnx', 2);
    await core.start();
    expect(core.isReady()).toBe(false);
    expect(logs.filter((line) => line.level === 50).map((line) => line.msg)).toEqual([
      'model load failed (not ready): /models/v1/model.onnx not found',
    ]);
    await jest.advanceTimersByTimeAsync(999);
    expect(loads).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(loads).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(loads).toHaveLength(3);
    expect(core.isReady()).toBe(true);
    await jest.advanceTimersByTimeAsync(5000);
    expect(loads).toHaveLength(3); // no more retries once loaded
  });

  test('without a retry interval a failed first load waits for a load request', async () => {
    jest.useFakeTimers();
    const { core, loads, failing } = harness({ loadRetryMillis: 0 });
    failing.set('/models/v1/model.onnx', 1);
    await core.start();
    expect(jest.getTimerCount()).toBe(0);
    expect(loads).toHaveLength(1);
    await core.load();
    expect(core.isReady()).toBe(true);
  });

  test('a retry that finds a model already loaded by a request does not load again', async () => {
    jest.useFakeTimers();
    const { core, loads, failing } = harness({ loadRetryMillis: 1000 });
    failing.set('/models/v1/model.onnx', 1);
    await core.start();
    await core.load();
    await jest.advanceTimersByTimeAsync(1000);
    expect(loads).toHaveLength(2);
  });

  test('another model needs its version; the same one keeps it', () => {
    const { core } = harness();
    expect(() => core.checkLoadRequest({ modelUri: '/models/v2/model.onnx' })).toThrow(
      expect.objectContaining({
        kind: 'invalid-argument',
        message:
          "loading another model (/models/v2/model.onnx) needs 'parameters.version': the version responses and metrics will carry",
      }),
    );
    expect(() => core.checkLoadRequest({ modelUri: '/models/v2/model.onnx', version: '2' })).not.toThrow();
    expect(() => core.checkLoadRequest({ modelUri: '/models/v1/model.onnx' })).not.toThrow();
    expect(() => core.checkLoadRequest({})).not.toThrow();
  });

  test('a new model brings the reference beside it unless told; the same source keeps its version', async () => {
    const { core, loads, sessions, events } = harness();
    await core.start();
    await core.load({ modelUri: 's3://bucket/fraud/v2/model.onnx', version: '2' });
    expect(loads[1]).toEqual({
      modelUri: 's3://bucket/fraud/v2/model.onnx',
      referenceUri: 's3://bucket/fraud/v2/reference.json',
    });
    expect(core.modelVersion).toBe('2');
    expect(sessions[0]!.releases).toBe(1); // the previous model, once it had nothing running
    await core.load({ referenceUri: '/elsewhere/reference.json' });
    expect(loads[2]).toEqual({
      modelUri: 's3://bucket/fraud/v2/model.onnx',
      referenceUri: '/elsewhere/reference.json',
    });
    await core.load({ modelUri: '/models/v3/model.onnx', referenceUri: '/refs/v3.json', version: '3' });
    expect(loads[3]).toEqual({ modelUri: '/models/v3/model.onnx', referenceUri: '/refs/v3.json' });
    await core.load();
    expect(loads[4]).toEqual(loads[3]);
    expect(core.modelVersion).toBe('3');
    expect(events).toEqual([
      'loaded /models/v1/model.onnx 1',
      'loaded s3://bucket/fraud/v2/model.onnx 2',
      'loaded s3://bucket/fraud/v2/model.onnx 2',
      'loaded /models/v3/model.onnx 3',
      'loaded /models/v3/model.onnx 3',
    ]);
  });

  test('a failed reload keeps the previous model, source and version serving', async () => {
    const { core, failing, logs, sessions } = harness();
    await core.start();
    failing.set('/models/v2/model.onnx', 1);
    await expect(core.load({ modelUri: '/models/v2/model.onnx', version: '2' })).rejects.toThrow('not found');
    expect(core.isReady()).toBe(true);
    expect(core.modelVersion).toBe('1');
    expect(sessions[0]!.releases).toBe(0);
    expect(logs.filter((line) => line.level === 50)).toEqual([
      expect.objectContaining({
        msg: 'model load failed (the previous model keeps serving): /models/v2/model.onnx not found',
        err: expect.objectContaining({ message: '/models/v2/model.onnx not found' }), // with its stack
      }),
    ]);
    const response = await core.infer('fraud', undefined, { id: undefined, inputs: [input()], outputs: undefined });
    expect(response.modelVersion).toBe('1');
  });

  test('loads run one after another, and one that fails does not stop the next', async () => {
    const { core, loads, gates, failing } = harness();
    let open: () => void = () => undefined;
    gates.set('/models/v2/model.onnx', new Promise((resolve) => (open = resolve)));
    failing.set('/models/v2/model.onnx', 1);
    const first = core.load({ modelUri: '/models/v2/model.onnx', version: '2' });
    const second = core.load({ modelUri: '/models/v3/model.onnx', version: '3' });
    await new Promise(setImmediate);
    expect(loads.map((source) => source.modelUri)).toEqual(['/models/v2/model.onnx']);
    open();
    await expect(first).rejects.toThrow();
    await second;
    expect(loads.map((source) => source.modelUri)).toEqual(['/models/v2/model.onnx', '/models/v3/model.onnx']);
    expect(core.modelVersion).toBe('3');
  });

  test('unload: not ready, the model released, the observer told; a load brings it back', async () => {
    jest.useFakeTimers();
    const { core, sessions, events, logs, failing } = harness({ loadRetryMillis: 1000 });
    failing.set('/models/v1/model.onnx', 1);
    await core.start(); // fails: a retry is pending
    await core.unload(); // nothing loaded yet: nothing to release
    expect(events).toEqual(['unloaded']);
    await core.load();
    await core.unload();
    expect(core.isReady()).toBe(false);
    expect(sessions[0]!.releases).toBe(1);
    expect(events.at(-1)).toBe('unloaded');
    expect(logs.at(-1)).toMatchObject({ msg: 'model unloaded: not ready', version: '1' });
    await jest.advanceTimersByTimeAsync(5000);
    expect(core.isReady()).toBe(false); // no retry brings it back by itself
    await core.load();
    expect(core.isReady()).toBe(true);
  });

  test('close waits for the load in progress, then releases the model', async () => {
    const { core, gates, sessions } = harness();
    let open: () => void = () => undefined;
    gates.set('/models/v1/model.onnx', new Promise((resolve) => (open = resolve)));
    const starting = core.start();
    let closed = false;
    const closing = core.close().then(() => (closed = true));
    await new Promise(setImmediate);
    expect(closed).toBe(false);
    open();
    await Promise.all([starting, closing]);
    expect(sessions[0]!.releases).toBe(1);
    expect(core.isReady()).toBe(false);
  });
});

describe('inference', () => {
  test('names and versions: another model or version is not found, no model yet is unavailable', async () => {
    const { core } = harness();
    const request = { id: undefined, inputs: [input()], outputs: undefined };
    await expect(core.infer('fraud', undefined, request)).rejects.toMatchObject({
      name: 'InferenceError',
      kind: 'unavailable',
      message: "model 'fraud' is not loaded yet",
    });
    await core.start();
    await expect(core.infer('other', undefined, request)).rejects.toMatchObject({
      kind: 'not-found',
      message: "unknown model 'other'; this server serves 'fraud'",
    });
    await expect(core.infer('fraud', '2', request)).rejects.toMatchObject({
      kind: 'not-found',
      message: "model 'fraud' has no version '2'; it serves version '1'",
    });
    expect(() => core.checkReady('fraud', '2')).toThrow("model 'fraud' has no version '2'");
    expect(() => core.checkReady('fraud', '1')).not.toThrow();
    expect(core.modelName).toBe('fraud');
  });

  test('the response: the model, its version, the id, and the outputs asked for in the order asked', async () => {
    const { core, events } = harness();
    await core.start();
    const all = await core.infer('fraud', '1', { id: 'r1', inputs: [input(2)], outputs: undefined });
    expect(all.modelName).toBe('fraud');
    expect(all.modelVersion).toBe('1');
    expect(all.id).toBe('r1');
    expect(all.outputs.map((t) => t.name)).toEqual(['label', 'probabilities']);
    expect(values(all.outputs[1]!)).toEqual([0.25, 0.75, 0.25, 0.75]);
    const some = await core.infer('fraud', undefined, {
      id: undefined,
      inputs: [input()],
      outputs: ['probabilities', 'label'],
    });
    expect(some.outputs.map((t) => t.name)).toEqual(['probabilities', 'label']);
    expect(events.slice(1)).toEqual(['inferred x → label,probabilities', 'inferred x → label,probabilities']);
  });

  test('a request that does not fit the model is refused before it runs', async () => {
    const { core, events } = harness();
    await core.start();
    await expect(
      core.infer('fraud', undefined, { id: undefined, inputs: [{ ...input(), name: 'z' }], outputs: undefined }),
    ).rejects.toMatchObject({ kind: 'invalid-argument', message: expect.stringMatching(/unknown input 'z'/) });
    await expect(
      core.infer('fraud', undefined, { id: undefined, inputs: [input()], outputs: ['nope'] }),
    ).rejects.toMatchObject({ kind: 'invalid-argument', message: expect.stringMatching(/unknown output 'nope'/) });
    expect(events).toHaveLength(1); // loaded, nothing inferred
  });

  test('what onnxruntime refuses to run on is an invalid argument that says why', async () => {
    const { core, scriptNextSession } = harness();
    scriptNextSession({ fail: 'index 7 is out of bounds' });
    await core.start();
    await expect(
      core.infer('fraud', undefined, { id: undefined, inputs: [input()], outputs: undefined }),
    ).rejects.toMatchObject({
      kind: 'invalid-argument',
      message: 'the model could not run on this input: index 7 is out of bounds',
    });
  });

  test('a request keeps the version it started on while another version is swapped in', async () => {
    const { core, scriptNextSession } = harness();
    let release: () => void = () => undefined;
    scriptNextSession({ hold: new Promise<void>((resolve) => (release = resolve)) });
    await core.start();
    const running = core.infer('fraud', undefined, { id: undefined, inputs: [input()], outputs: undefined });
    await new Promise(setImmediate);
    scriptNextSession({});
    await core.load({ modelUri: '/models/v2/model.onnx', version: '2' });
    release();
    expect((await running).modelVersion).toBe('1');
    expect(core.modelVersion).toBe('2');
  });

  test('metadata: the name, the one version served, the platform and the signature', async () => {
    const { core } = harness();
    await core.start();
    expect(core.metadata('fraud', undefined)).toEqual({
      name: 'fraud',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: SIGNATURE.inputs,
      outputs: SIGNATURE.outputs,
    });
    expect(() => core.metadata('fraud', '3')).toThrow("model 'fraud' has no version '3'");
  });

  test('faults: injected errors before the model runs, shifted scores on the prediction output only', async () => {
    const failing = harness({ faults: new FaultInjector({ errorRate: 1, latencyMillis: 0, scoreShift: 0 }) });
    await failing.core.start();
    await expect(
      failing.core.infer('fraud', undefined, { id: undefined, inputs: [input()], outputs: undefined }),
    ).rejects.toMatchObject({ kind: 'internal', message: 'injected fault' });

    const shifted = harness({ faults: new FaultInjector({ errorRate: 0, latencyMillis: 0, scoreShift: 0.25 }) });
    await shifted.core.start();
    const { outputs } = await shifted.core.infer('fraud', undefined, {
      id: undefined,
      inputs: [input()],
      outputs: undefined,
    });
    expect(values(outputs[0]!)).toEqual([1]); // the label is not a prediction
    expect(values(outputs[1]!)).toEqual([0, 1]);

    // A model without a prediction output (no FP32 [batch, classes]) has no scores to shift.
    const labelOnly = harness({
      faults: new FaultInjector({ errorRate: 0, latencyMillis: 0, scoreShift: 0.25 }),
      signature: { ...SIGNATURE, outputs: [SIGNATURE.outputs[0]!] },
    });
    await labelOnly.core.start();
    const labels = await labelOnly.core.infer('fraud', undefined, {
      id: undefined,
      inputs: [input()],
      outputs: undefined,
    });
    expect(labels.outputs.map(values)).toEqual([[1]]);
  });
});
