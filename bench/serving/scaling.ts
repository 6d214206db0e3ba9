// Scaling with WORKERS (not a test): the serving image with N workers pinned to N cores, driven by N load
// generators (32 connections each) pinned to N other cores, for every N the machine has room for
// (2N <= cores). Prints throughput per N, its ratio to N times the one-worker throughput (target: within 20 %),
// and whether /metrics counted exactly the responses the generators received (one process's view).
// Run: node --import tsx bench/serving/scaling.ts   (ROUNDS=3, DURATION_MS=5000; MAX_WORKERS caps N)
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { compiled, pinned, runLoads, waitUntilServing, writeBodyFile } from './processes.js';

const ROUNDS = Number(process.env.ROUNDS ?? '3');
const DURATION_MS = process.env.DURATION_MS ?? '5000';
const CORES = availableParallelism();
const MAX = Math.min(Number(process.env.MAX_WORKERS ?? Infinity), Math.floor(CORES / 2));
const PORT = 18090;

if (spawnSync('npx', ['tsc', '-p', 'bench/serving/tsconfig.build.json'], { stdio: 'inherit' }).status !== 0)
  throw new Error('tsc failed');
const body = writeBodyFile();
const range = (from: number, count: number): string => (count === 1 ? `${from}` : `${from}-${from + count - 1}`);

const readyOnNewConnection = (): Promise<boolean> =>
  new Promise((resolve) =>
    get({ host: '127.0.0.1', port: PORT, path: '/v2/health/ready', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false)),
  );

interface Cell {
  rps: number;
  p99: number;
  countedRight: boolean;
}

async function measure(workers: number): Promise<Cell> {
  const server = pinned(range(0, workers), process.execPath, [compiled('serving-image/src/main.ts')], {
    PORT: String(PORT),
    HOST: '127.0.0.1',
    MODEL_NAME: 'fraud',
    MODEL_URI: 'serving-image/test/fixtures/model.onnx',
    LOG_LEVEL: 'warn',
    WORKERS: String(workers),
  });
  try {
    await waitUntilServing(PORT, '/v2/health/ready');
    // Every worker ready (readiness is per worker): fresh connections, which the workers take in turn, all 200.
    for (let ready = 0; ready < workers * 4;) ready = (await readyOnNewConnection()) ? ready + 1 : 0;
    const results = await runLoads(
      Array.from({ length: workers }, (_, i) => ({
        cpus: range(workers + i, 1),
        port: PORT,
        body,
        concurrency: 32,
        durationMs: DURATION_MS,
      })),
    );
    const exposition = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
    const counted = Number(/modelops_inference_requests_total\{[^}]*code="200"[^}]*\} (\d+)/.exec(exposition)?.[1]);
    const answered = results.reduce((sum, r) => sum + (r.answered ?? 0), 0);
    return {
      rps: results.reduce((sum, r) => sum + r.rps, 0),
      p99: Math.max(...results.map((r) => r.p99)),
      countedRight: counted === answered,
    };
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
}

if (MAX < 2) {
  console.log(`${CORES} cores: room for 1 worker and its load generator only; scaling needs 2N cores for N workers.`);
}
const best = new Map<number, Cell>();
const loads: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (let workers = 1; workers <= Math.max(1, MAX); workers++) {
    const cell = await measure(workers);
    loads.push(loadavg()[0]!);
    console.log(`round ${round} WORKERS=${workers}: ${JSON.stringify(cell)} load ${loads.at(-1)}`);
    if (cell.rps > (best.get(workers)?.rps ?? 0)) best.set(workers, cell);
  }
}
console.log(
  `\nload average (1 min): ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${CORES} cores`,
);
const one = best.get(1)!.rps;
console.log('WORKERS   req/s   p99 ms   vs N x one worker   /metrics counted every response');
for (const [workers, cell] of best) {
  console.log(
    `${String(workers).padStart(7)} ${cell.rps.toFixed(0).padStart(7)} ${cell.p99.toFixed(3).padStart(8)} ${(cell.rps / (workers * one)).toFixed(2).padStart(19)}   ${cell.countedRight ? 'yes' : 'NO'}`,
  );
}
