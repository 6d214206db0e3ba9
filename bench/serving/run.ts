// Serving benchmark (not a test): the same request body and load generator against
//   (a) onnxruntime-node session.run in-process  (b) a bare node:http server that only parses the JSON
//   (c) this serving image                         (d) FastAPI + uvicorn + onnxruntime (Python)
//   (e) KServe's ModelServer, custom ONNX Model    (f) Seldon MLServer, custom ONNX runtime
// at concurrency 1 and 32. Servers run pinned to CPU 0, the load generator to CPU 1 (taskset).
// Run: node --import tsx bench/serving/run.ts   (DURATION_MS=5000, ROUNDS=2; the Python rows need
// `bash bench/serving/setup-python.sh` first, which installs them under .cache/bench-serving)
// Everything measured runs as tsc output from dist/, as in the image: tsx's transform adds a helper call
// to every closure created, which is a cost the image does not have.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  compiled,
  cpuSeconds,
  pinned,
  runLoad,
  waitUntilServing,
  writeBodyFile,
  type LoadResult,
} from './processes.js';

const SERVER_CPU = '0';
const LOAD_CPU = '1';
const DURATION_MS = process.env.DURATION_MS ?? '5000';
// The machine is shared: each cell is measured ROUNDS times, rounds interleaved, and the best round is kept.
const ROUNDS = Number(process.env.ROUNDS ?? '2');
const CONCURRENCIES = (process.env.CONCURRENCIES ?? '1,32').split(',').map(Number);
// BASELINE=<another checkout of this repository> adds a row (c0) for its serving image, measured in the same
// rounds as this one's: a before/after comparison that the machine's load affects alike.
const BASELINE = process.env.BASELINE;
const VENVS = '.cache/bench-serving';
const python = (venv: string): string => `${VENVS}/${venv}/bin/python`;

type Result = LoadResult;

interface Subject {
  key: string;
  label: string;
  /** The Python environment it needs (bench/serving/setup-python.sh). */
  venv?: string;
  /** Starts the server and resolves with its port once it answers; absent for the in-process baseline. */
  start?: () => Promise<{ port: number; process: ChildProcess }>;
}

for (const tree of ['.', ...(BASELINE ? [BASELINE] : [])]) {
  const build = spawnSync('npx', ['tsc', '-p', join(tree, 'bench/serving/tsconfig.build.json')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`tsc failed in ${tree}`);
}

const bodyFile = writeBodyFile();

const server =
  (port: number, command: string, args: string[], readyPath: string, env: Record<string, string> = {}) =>
  async () => {
    const child = pinned(SERVER_CPU, command, args, env);
    await waitUntilServing(port, readyPath);
    return { port, process: child };
  };

// The serving image in its default configuration, with the fixture's reference: the drift histograms are on.
const servingImage = (port: number, main: string, env: Record<string, string> = {}) =>
  server(port, process.execPath, [main], '/v2/health/ready', {
    PORT: String(port),
    HOST: '127.0.0.1',
    MODEL_NAME: 'fraud',
    MODEL_URI: 'serving-image/test/fixtures/model.onnx',
    LOG_LEVEL: 'warn',
    ...env,
  });

const subjects: Subject[] = [
  { key: 'a', label: 'onnxruntime-node session.run, in-process' },
  {
    key: 'b',
    label: 'bare node:http, JSON.parse, fixed answer',
    start: server(18081, process.execPath, [compiled('bench/serving/bare-server.ts')], '/', { PORT: '18081' }),
  },
  { key: 'c', label: 'modelops serving image', start: servingImage(18082, compiled('serving-image/src/main.ts')) },
  ...(BASELINE
    ? [
        {
          key: 'c0',
          label: 'the serving image at BASELINE',
          start: servingImage(18089, join(BASELINE, compiled('serving-image/src/main.ts'))),
        },
      ]
    : []),
  {
    key: 'd',
    label: 'FastAPI + uvicorn[standard] + onnxruntime',
    venv: 'fastapi',
    start: server(18083, python('fastapi'), ['bench/serving/fastapi_server.py', '18083'], '/v2/health/ready'),
  },
  // The same app on a plain `pip install uvicorn` (asyncio loop, h11 parser), as many deployments run it.
  {
    key: 'd0',
    label: 'the same, plain uvicorn (asyncio + h11)',
    venv: 'fastapi',
    start: server(
      18084,
      python('fastapi'),
      ['bench/serving/fastapi_server.py', '18084', 'asyncio', 'h11'],
      '/v2/health/ready',
    ),
  },
  {
    key: 'e',
    label: 'KServe 0.21 ModelServer, custom ONNX Model',
    venv: 'kserve',
    start: server(18085, python('kserve'), ['bench/serving/kserve_server.py', '18085'], '/v2/health/ready'),
  },
  {
    key: 'f',
    label: 'MLServer 1.7 with a custom ONNX runtime',
    venv: 'mlserver',
    start: server(
      18086,
      `${VENVS}/mlserver/bin/mlserver`,
      ['start', 'bench/serving/mlserver'],
      '/v2/models/fraud/ready',
      { MLSERVER_HTTP_PORT: '18086', MLSERVER_GRPC_PORT: '18087', MLSERVER_METRICS_PORT: '18088' },
    ),
  },
];

function measure(
  subject: Subject,
  server: ChildProcess | undefined,
  port: number | undefined,
  concurrency: number,
): Result {
  if (port === undefined) {
    const args = ['--body', bodyFile, '--concurrency', String(concurrency), '--duration', DURATION_MS];
    const run = spawnSync(
      'taskset',
      ['-c', SERVER_CPU, process.execPath, compiled('bench/serving/session-run.ts'), ...args],
      {
        encoding: 'utf8',
      },
    );
    if (run.status !== 0) throw new Error(`${subject.key} at ${concurrency}: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Result;
  }
  const cpuBefore = cpuSeconds(server!.pid!);
  const result = runLoad({ cpus: LOAD_CPU, port, body: bodyFile, concurrency, durationMs: DURATION_MS });
  if (result.answered) result.cpuMicros = ((cpuSeconds(server!.pid!) - cpuBefore) * 1e6) / result.answered;
  return result;
}

// ONLY=c,e measures just those rows.
const only = process.env.ONLY?.split(',');
const results = new Map<string, Result>();
const leastCpu = new Map<string, number>();
// The 1-minute load average after each cell: how busy the (shared) machine was while this ran.
const loads: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const subject of subjects) {
    if (only && !only.includes(subject.key)) continue;
    if (subject.venv && !existsSync(python(subject.venv))) {
      if (round === 1) console.log(`(${subject.key}) skipped: run bash bench/serving/setup-python.sh first`);
      continue;
    }
    const started = await subject.start?.();
    try {
      for (const concurrency of CONCURRENCIES) {
        const result = measure(subject, started?.process, started?.port, concurrency);
        const key = `${subject.key}${concurrency}`;
        if (result.rps > (results.get(key)?.rps ?? 0)) results.set(key, result);
        // Contention only adds CPU time per response, so the least over the rounds is the server's own.
        if (result.cpuMicros !== undefined)
          leastCpu.set(key, Math.min(leastCpu.get(key) ?? Infinity, result.cpuMicros));
        loads.push(loadavg()[0]!);
        console.log(`round ${round} ${subject.key} c=${concurrency}: ${JSON.stringify(result)} load ${loads.at(-1)}`);
      }
    } finally {
      if (started) {
        started.process.kill('SIGTERM');
        await once(started.process, 'exit');
      }
    }
  }
}

const cell = (key: string): string => {
  const r = results.get(key);
  return r
    ? `${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(3).padStart(7)} ${r.p99.toFixed(3).padStart(7)}`
    : '      -       -       -';
};
console.log(
  `\nload average (1 min) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${availableParallelism()} cores`,
);
console.log(`\n${''.padEnd(47)}| concurrency 1: req/s  p50 ms  p99 ms | concurrency 32: req/s  p50 ms  p99 ms`);
for (const subject of subjects) {
  console.log(
    `${`(${subject.key})`.padEnd(4)} ${subject.label.padEnd(42)}| ${cell(`${subject.key}1`).padStart(36)} | ${cell(`${subject.key}32`).padStart(37)}`,
  );
}
const cpu = (key: string): string => leastCpu.get(key)?.toFixed(1) ?? 'n/a';
console.log(`\nserver CPU per response (µs, user + system, the least over the rounds):`);
for (const subject of subjects.filter((s) => s.start)) {
  console.log(
    `${`(${subject.key})`.padEnd(4)} c=1 ${cpu(`${subject.key}1`).padStart(7)}   c=32 ${cpu(`${subject.key}32`).padStart(7)}`,
  );
}
const cpuRatio = (x: string, y: string): string =>
  leastCpu.has(x) && leastCpu.has(y) ? (leastCpu.get(x)! / leastCpu.get(y)!).toFixed(2) : 'n/a';
const ratio = (x: string, y: string, field: keyof Result): string => {
  const a = results.get(x)?.[field];
  const b = results.get(y)?.[field];
  return a === undefined || b === undefined ? 'n/a' : (a / b).toFixed(2);
};
const diff = (x: string, y: string, field: 'p50' | 'p99'): string => {
  const a = results.get(x)?.[field];
  const b = results.get(y)?.[field];
  return a === undefined || b === undefined ? 'n/a' : `${(a - b).toFixed(3)} ms`;
};
console.log(`
throughput (c) / (d) at 32: ${ratio('c32', 'd32', 'rps')}x   (target >= 10; against (d0): ${ratio('c32', 'd032', 'rps')}x)
throughput (c) / (e) at 32: ${ratio('c32', 'e32', 'rps')}x   (target >= 10)
throughput (c) / (f) at 32: ${ratio('c32', 'f32', 'rps')}x   (target >= 10)
throughput (c) / (b) at 32: ${ratio('c32', 'b32', 'rps')}     (target >= 0.85; by CPU per response (b)/(c): ${cpuRatio('b32', 'c32')})
p99 of (c) at 32: ${results.get('c32')?.p99.toFixed(3) ?? 'n/a'} ms          (target <= 2)
(c) - (a) at concurrency 1: p50 ${diff('c1', 'a1', 'p50')}, p99 ${diff('c1', 'a1', 'p99')}   (target within 1 ms)`);
