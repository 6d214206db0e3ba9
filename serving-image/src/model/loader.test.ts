/** @jest-environment ./serving-image/test/ort-environment.mjs */
// The loader on the real fixture model and onnxruntime: what each phase took, the reference beside the model or
// none, and a failed load that leaves nothing behind. Fetches move a fake clock, so the timings are exact.
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { NotFoundError, type Fetcher } from './fetch.js';
import { createLoader } from './loader.js';

const FIXTURES = 'serving-image/test/fixtures';
const BLOBS = {
  'm/model.onnx': readFileSync(`${FIXTURES}/model.onnx`),
  'm/reference.json': readFileSync(`${FIXTURES}/reference.json`),
};
const SOURCE = { modelUri: 'm/model.onnx', referenceUri: 'm/reference.json' };
const FETCH_MILLIS = 30;
// Spied on (calling through) to see the warm-up run and the release; its type is the factory, its value the class.
const SESSION = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;

/** Loads from `blobs` (a missing name is not found, an Error is that failure); each fetch takes 30 ms. */
function loader(blobs: Record<string, Uint8Array | Error>) {
  const logs: Record<string, unknown>[] = [];
  const fetch: Fetcher = async (uri) => {
    jest.advanceTimersByTime(FETCH_MILLIS);
    const blob = blobs[uri];
    if (blob === undefined) throw new NotFoundError(uri, 'no such file');
    if (blob instanceof Error) throw blob;
    return blob;
  };
  const load = createLoader({
    fetch,
    intraOpThreads: 1,
    batching: { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined },
    logger: pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
  return { load, logs };
}

beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

test('a load fetches the model and its reference, warms it up once and says what each phase took', async () => {
  const runs = jest.spyOn(SESSION, 'run');
  const model = await loader(BLOBS).load(SOURCE);
  expect(model.reference?.prediction.output).toBe('probabilities');
  expect(runs).toHaveBeenCalledTimes(1); // the warm-up, before any request
  // Only the fetches move the fake clock.
  expect(model.loadMillis).toEqual({ fetch: FETCH_MILLIS, session: 0, reference: FETCH_MILLIS, warmUp: 0 });
  model.retire();
});

test('without a reference beside it, the model serves with none and a warning that says where it looked', async () => {
  const { load, logs } = loader({ 'm/model.onnx': BLOBS['m/model.onnx'] });
  const model = await load(SOURCE);
  expect(model.reference).toBeUndefined();
  expect(logs).toEqual([
    expect.objectContaining({
      level: 40,
      referenceUri: 'm/reference.json',
      msg: 'no reference distribution; serving without feature and score histograms',
    }),
  ]);
  model.retire();
});

test('a reference that cannot be read for another reason fails the load, and the session is released', async () => {
  const releases = jest.spyOn(SESSION, 'release');
  const denied = Object.assign(new Error("EACCES: permission denied, open 'm/reference.json'"), { code: 'EACCES' });
  await expect(loader({ ...BLOBS, 'm/reference.json': denied }).load(SOURCE)).rejects.toBe(denied);
  expect(releases).toHaveBeenCalledTimes(1);
});

test("onnxruntime's own logging is down to errors (it writes plain text on stderr, beside the JSON logs)", () => {
  expect(ort.env.logLevel).toBe('error');
});
