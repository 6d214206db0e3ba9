// Baseline (a): onnxruntime-node's session.run in-process on the fixture model, one row per call, with
// `concurrency` calls outstanding: the floor under any server's latency. Prints the same JSON as load.ts.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { runClosedLoop } from './closed-loop.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'serving-image/test/fixtures/model.onnx' },
    body: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '5000' },
  },
});
const request = JSON.parse(readFileSync(values.body!, 'utf8')) as { inputs: { data: number[]; shape: number[] }[] };
const input = request.inputs[0]!;
const session = await ort.InferenceSession.create(values.model!, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const feeds = { features: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) };

const result = await runClosedLoop(
  Number(values.concurrency),
  Number(values.warmup),
  Number(values.duration),
  async (loop) => {
    while (loop.running) {
      const started = performance.now();
      await session.run(feeds);
      loop.record(performance.now() - started);
    }
  },
);
console.log(JSON.stringify({ ...result, errors: 0, statuses: {} }));
