// Baseline (a): onnxruntime-node's session.run in-process on the fixture model, one row per call, with
// `concurrency` calls outstanding: the floor under any server's latency. Prints the same JSON as load.ts.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

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
const session = await ort.InferenceSession.create(values.model!, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
const feeds = { features: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) };

const latencies: number[] = [];
let recording = false;
let running = true;
const worker = async (): Promise<void> => {
  while (running) {
    const started = performance.now();
    await session.run(feeds);
    if (recording) latencies.push(performance.now() - started);
  }
};
const workers = Array.from({ length: Number(values.concurrency) }, worker);
await new Promise((resolve) => setTimeout(resolve, Number(values.warmup)));
recording = true;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, Number(values.duration)));
recording = false;
const seconds = (performance.now() - started) / 1000;
running = false;
await Promise.all(workers);
latencies.sort((a, b) => a - b);
const percentile = (p: number): number => latencies[Math.floor((p / 100) * latencies.length)] ?? NaN;
console.log(JSON.stringify({ requests: latencies.length, errors: 0, statuses: {}, rps: latencies.length / seconds, p50: percentile(50), p99: percentile(99) }));
