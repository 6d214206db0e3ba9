import { jest } from '@jest/globals';
import { Batcher, type Execute } from './batcher.js';
import type { Tensor } from './tensor.js';

const rowsOf = (values: number[][]): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [values.length, 2],
  data: Float32Array.from(values.flat()),
});

/** An execute that records each batch and returns each row's sum, failing on any negative value. */
function recordingExecute(): { execute: Execute; batches: number[][][] } {
  const batches: number[][][] = [];
  const execute: Execute = async ([input]) => {
    const data = Array.from(input!.data as Float32Array);
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

test('requests submitted together share one run and get their own rows back', async () => {
  const { execute, batches } = recordingExecute();
  const runs: number[] = [];
  const batcher = new Batcher(execute, { maxBatchSize: 64, maxQueueDelayMicros: 0, onRun: (rows) => runs.push(rows) });
  const results = await Promise.all([
    batcher.submit([rowsOf([[1, 2]])], 1),
    batcher.submit(
      [
        rowsOf([
          [3, 4],
          [5, 6],
        ]),
      ],
      2,
    ),
    batcher.submit([rowsOf([[7, 8]])], 1),
  ]);
  expect(results.map(sums)).toEqual([[3], [7, 11], [15]]);
  expect(results[1]![0]!.shape).toEqual([2, 1]);
  expect(batches).toHaveLength(1);
  expect(runs).toEqual([4]);
});

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
    const second = batcher.submit([rowsOf([[2, 2]])], 1);
    await jest.advanceTimersByTimeAsync(1); // the first request's 2 ms are up: its run is due at once
    await new Promise(setImmediate);
    expect(batches.map((rows) => rows.length)).toEqual([2]);
    expect([...(await first), ...(await second)].map((t) => Array.from(t.data as Float32Array))).toEqual([[2], [4]]);
  } finally {
    jest.useRealTimers();
  }
});
