import { jest } from '@jest/globals';
import { Batcher, type Execute } from './batcher.js';
import type { Tensor } from './tensor.js';

const rowsOf = (values: number[][]): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [values.length, 2],
  data: Float32Array.from(values.flat()),
});

/**
 * An execute that records each batch and returns each row's sum, failing on any negative value and, as onnxruntime
 * does, on data that does not fit its shape.
 */
function recordingExecute(): { execute: Execute; batches: number[][][] } {
  const batches: number[][][] = [];
  const execute: Execute = async ([input]) => {
    const data = Array.from(input!.data as Float32Array);
    if (data.length !== input!.shape[0]! * 2) throw new Error(`${data.length} values for the shape [${input!.shape}]`);
    const rows = Array.from({ length: input!.shape[0]! }, (_, r) => data.slice(r * 2, r * 2 + 2));
    batches.push(rows);
    if (data.some((v) => v < 0)) throw new Error('negative value');
    return [
      {
        name: 'sum',
        datatype: 'FP32',
        shape: [rows.length, 1],
        data: Float32Array.from(rows.map(([a, b]) => a! + b!)),
      },
    ];
  };
  return { execute, batches };
}

const sums = (outputs: Tensor[]): number[] => Array.from(outputs[0]!.data as Float32Array);

// The first request sets the row size the run is cut into: a request of one row first, or of two.
test.each([[[1, 2, 1]], [[2, 1, 1]]])(
  'requests submitted together share one run and get their own rows back (rows %j)',
  async (counts) => {
    const { execute, batches } = recordingExecute();
    const runs: number[] = [];
    const batcher = new Batcher(execute, {
      maxBatchSize: 64,
      maxQueueDelayMicros: 0,
      onRun: (rows) => runs.push(rows),
    });
    let value = 0;
    const requests = counts.map((n) => Array.from({ length: n }, () => [++value, ++value]));
    const results = await Promise.all(requests.map((rows) => batcher.submit([rowsOf(rows)], rows.length)));
    expect(results.map(sums)).toEqual(requests.map((rows) => rows.map(([a, b]) => a! + b!)));
    expect(results.map((outputs) => outputs[0]!.shape)).toEqual(counts.map((n) => [n, 1]));
    expect(batches).toEqual([requests.flat()]);
    expect(runs).toEqual([4]);
  },
);

test('requests arriving while a run is in flight form the next batch, up to the max batch size', async () => {
  const { execute, batches } = recordingExecute();
  const batcher = new Batcher(execute, { maxBatchSize: 3, maxQueueDelayMicros: 0, onRun: () => undefined });
  const first = batcher.submit([rowsOf([[0, 0]])], 1);
  await new Promise(setImmediate); // the first run has started
  const rest = [1, 2, 3, 4, 5].map((v) => batcher.submit([rowsOf([[v, 0]])], 1));
  await Promise.all([first, ...rest]);
  expect(batches.map((rows) => rows.length)).toEqual([1, 3, 2]);
});

test('a failing batch is retried request by request, so only the bad request fails', async () => {
  const { execute, batches } = recordingExecute();
  const batcher = new Batcher(execute, { maxBatchSize: 64, maxQueueDelayMicros: 0, onRun: () => undefined });
  const results = await Promise.allSettled([
    batcher.submit([rowsOf([[1, 1]])], 1),
    batcher.submit([rowsOf([[-1, 1]])], 1),
    batcher.submit([rowsOf([[2, 2]])], 1),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(batches.map((rows) => rows.length)).toEqual([3, 1, 1, 1]);
});

test('requests whose other dimensions differ do not share a run', async () => {
  const { execute } = recordingExecute();
  const shapes: number[][] = [];
  const batcher = new Batcher(
    async (inputs) => {
      shapes.push(inputs[0]!.shape);
      return execute([{ ...inputs[0]!, shape: [inputs[0]!.data.length / 2, 2] }]);
    },
    { maxBatchSize: 64, maxQueueDelayMicros: 0, onRun: () => undefined },
  );
  const wide: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) };
  await Promise.allSettled([
    batcher.submit([rowsOf([[1, 2]])], 1),
    batcher.submit([wide], 1),
    batcher.submit([rowsOf([[3, 4]])], 1),
  ]);
  expect(shapes).toEqual([
    [2, 2],
    [1, 4],
  ]);
});

test('a queue delay holds a lone request until it expires or the batch fills', async () => {
  const { execute, batches } = recordingExecute();
  const batcher = new Batcher(execute, { maxBatchSize: 2, maxQueueDelayMicros: 60_000_000, onRun: () => undefined });
  const first = batcher.submit([rowsOf([[1, 1]])], 1);
  await new Promise(setImmediate);
  expect(batches).toHaveLength(0); // waiting for company
  await Promise.all([first, batcher.submit([rowsOf([[2, 2]])], 1)]); // the full batch runs at once
  expect(batches.map((rows) => rows.length)).toEqual([2]);
});

test('a lone request runs when its queue delay expires, and whoever comes meanwhile joins it', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] }); // the run starts in the next turn, as in production
  try {
    const { execute, batches } = recordingExecute();
    const batcher = new Batcher(execute, { maxBatchSize: 8, maxQueueDelayMicros: 2000, onRun: () => undefined });
    const first = batcher.submit([rowsOf([[1, 1]])], 1);
    await jest.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(0); // still waiting for company
    expect(batcher.idle).toBe(false); // so a retired model is not released under it
    const second = batcher.submit([rowsOf([[2, 2]])], 1);
    await jest.advanceTimersByTimeAsync(1); // the first request's 2 ms are up: its run is due at once
    await new Promise(setImmediate);
    expect(batches.map((rows) => rows.length)).toEqual([2]);
    expect([...(await first), ...(await second)].map((t) => Array.from(t.data as Float32Array))).toEqual([[2], [4]]);
  } finally {
    jest.useRealTimers();
  }
});

test('a run with an output not batched along axis 0 is repeated request by request', async () => {
  const runs: number[] = [];
  // A model whose second output sums everything into one value, whatever the batch: right for one request, wrong for
  // two (its first output, the rows themselves, is batched).
  const total: Execute = async ([input]) => [
    input!,
    {
      name: 'total',
      datatype: 'FP32',
      shape: [1],
      data: Float32Array.of((input!.data as Float32Array).reduce((sum, v) => sum + v, 0)),
    },
  ];
  const batcher = new Batcher(total, { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: (rows) => runs.push(rows) });
  const results = await Promise.all([batcher.submit([rowsOf([[1, 2]])], 1), batcher.submit([rowsOf([[3, 4]])], 1)]);
  expect(results.map((outputs) => Array.from(outputs[1]!.data as Float32Array))).toEqual([[3], [7]]);
  expect(runs).toEqual([2, 1, 1]);
});

test('BYTES requests are batched as strings and each gets its own rows back', async () => {
  const seen: string[][] = [];
  const upper: Execute = async ([input]) => {
    seen.push([...(input!.data as string[])]);
    return [{ ...input!, name: 'upper', data: (input!.data as string[]).map((s) => s.toUpperCase()) }];
  };
  const batcher = new Batcher(upper, { maxBatchSize: 8, maxQueueDelayMicros: 0, onRun: () => undefined });
  const text = (rows: string[][]): Tensor => ({
    name: 's',
    datatype: 'BYTES',
    shape: [rows.length, 2],
    data: rows.flat(),
  });
  const results = await Promise.all([
    batcher.submit([text([['a', 'b']])], 1),
    batcher.submit(
      [
        text([
          ['c', 'd'],
          ['e', 'f'],
        ]),
      ],
      2,
    ),
  ]);
  expect(seen).toEqual([['a', 'b', 'c', 'd', 'e', 'f']]);
  expect(results.map(([output]) => [output!.shape, output!.data])).toEqual([
    [
      [1, 2],
      ['A', 'B'],
    ],
    [
      [2, 2],
      ['C', 'D', 'E', 'F'],
    ],
  ]);
});

test('it is idle only with nothing queued or running, and says so when the last request is answered', async () => {
  let finish: () => void = () => undefined;
  const slow: Execute = (inputs) => new Promise((resolve) => (finish = () => resolve(inputs)));
  const idleCalls: boolean[] = [];
  const batcher: Batcher = new Batcher(slow, {
    maxBatchSize: 8,
    maxQueueDelayMicros: 0,
    onRun: () => undefined,
    onIdle: () => idleCalls.push(batcher.idle),
  });
  expect(batcher.idle).toBe(true);
  const answered = batcher.submit([rowsOf([[1, 1]])], 1);
  expect(batcher.idle).toBe(false); // queued, its run due at the end of this turn
  await new Promise(setImmediate);
  expect(batcher.idle).toBe(false); // running
  expect(idleCalls).toEqual([]);
  finish();
  await answered;
  await new Promise(setImmediate);
  expect(batcher.idle).toBe(true);
  expect(idleCalls).toEqual([true]);
});

test('a bug past the run itself fails its request instead of leaving it hanging, and the next one runs', async () => {
  const { execute } = recordingExecute();
  let runs = 0;
  const batcher = new Batcher(execute, {
    maxBatchSize: 8,
    maxQueueDelayMicros: 0,
    onRun: () => {
      if (runs++ === 0) throw new Error('the batch-size histogram broke');
    },
  });
  const first = batcher.submit([rowsOf([[1, 1]])], 1).then(sums, (error: Error) => error.message);
  const stillWaiting = new Promise(setImmediate).then(() => 'still waiting');
  expect(await Promise.race([first, stillWaiting])).toBe('the batch-size histogram broke');
  expect(sums(await batcher.submit([rowsOf([[2, 3]])], 1))).toEqual([5]);
});

describe('with a queue delay (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  // With 3, the second request finds the first one's timer set and must not set another beside it.
  test.each([2, 3])('a batch that fills before its delay is up runs at once, and only once (%i rows)', async (rows) => {
    const { execute, batches } = recordingExecute();
    const batcher = new Batcher(execute, { maxBatchSize: rows, maxQueueDelayMicros: 2000, onRun: () => undefined });
    const all = Promise.all(Array.from({ length: rows }, (_, v) => batcher.submit([rowsOf([[v, v]])], 1)));
    await new Promise(setImmediate);
    await all;
    expect(jest.getTimerCount()).toBe(0); // the delay's timer went with the run
    await jest.advanceTimersByTimeAsync(5);
    expect(batches.map((batch) => batch.length)).toEqual([rows]);
  });

  // The server has been up a minute (performance.now() is far from 0); the second request arrives while the first
  // one's run is in flight and has waited `waited` ms of its 4 when that run ends; alone, it does not fill a batch of 2
  // (however many rows ran before it). Then, ms by ms: the runs so far.
  test.each([
    [1, [1, 1, 1, 2]], // 3 ms of its delay left: it waits them
    [5, [2, 2, 2, 2]], // its delay is up: it runs at once
  ])('a request queued behind a run waits only what is left of its delay (waited %i ms)', async (waited, timeline) => {
    const { execute, batches } = recordingExecute();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const firstRunHeld: Execute = async (inputs) => {
      const outputs = await execute(inputs);
      if (batches.length === 1) await held;
      return outputs;
    };
    const batcher = new Batcher(firstRunHeld, { maxBatchSize: 2, maxQueueDelayMicros: 4000, onRun: () => undefined });
    jest.advanceTimersByTime(60_000);
    const first = batcher.submit([rowsOf([[1, 1]])], 1);
    await jest.advanceTimersByTimeAsync(4);
    await new Promise(setImmediate);
    expect(batches).toHaveLength(1); // the first request's run, held
    const second = batcher.submit([rowsOf([[2, 2]])], 1);
    await jest.advanceTimersByTimeAsync(waited);
    release();
    await first;
    const runs: number[] = [];
    for (const ms of [0, 1, 1, 1]) {
      await jest.advanceTimersByTimeAsync(ms);
      await new Promise(setImmediate);
      runs.push(batches.length);
    }
    expect(runs).toEqual(timeline);
    expect(sums(await second)).toEqual([4]);
  });
});
