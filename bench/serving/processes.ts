// Process plumbing shared by the serving benchmarks: pinned servers, readiness, the load generator, CPU time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Responses including the warm-up's. */
  answered?: number;
  /** The server process's CPU time (user + system) per response: what a busy shared machine distorts least. */
  cpuMicros?: number;
}

/** Where tsc (bench/serving/tsconfig.build.json) puts a source file's output. */
export const compiled = (path: string): string => join('dist', path.replace(/\.ts$/, '.js'));

/** The request every row answers: one row of the fixture's 30 features, JSON. */
export function writeBodyFile(): string {
  const samples = JSON.parse(readFileSync('serving-image/test/fixtures/samples.json', 'utf8')) as {
    features: number[][];
  };
  const file = join(mkdtempSync(join(tmpdir(), 'bench-serving-')), 'body.json');
  writeFileSync(
    file,
    JSON.stringify({ inputs: [{ name: 'features', shape: [1, 30], datatype: 'FP32', data: samples.features[0] }] }),
  );
  return file;
}

/** `cpus` as taskset takes them: "0", "0-3", "4,5". */
export const pinned = (cpus: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess =>
  spawn('taskset', ['-c', cpus, command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

export async function waitUntilServing(port: number, path: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing serving on port ${port}${path}`);
}

/** User + system CPU seconds of a process so far, from /proc (clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface LoadOptions {
  cpus: string;
  port: number;
  body: string;
  concurrency: number;
  durationMs: string;
}

const loadArgs = (o: LoadOptions): string[] => [
  '-c',
  o.cpus,
  process.execPath,
  compiled('bench/serving/load.ts'),
  '--port',
  String(o.port),
  '--body',
  o.body,
  '--concurrency',
  String(o.concurrency),
  '--duration',
  o.durationMs,
];

/** One closed-loop load run (bench/serving/load.ts), waited for. */
export function runLoad(options: LoadOptions): LoadResult {
  const run = spawnSync('taskset', loadArgs(options), { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`load on port ${options.port}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as LoadResult;
}

/** Several load generators at once (each on its own CPUs), for servers that one generator cannot saturate. */
export async function runLoads(options: LoadOptions[]): Promise<LoadResult[]> {
  return Promise.all(
    options.map(
      (o) =>
        new Promise<LoadResult>((resolve, reject) => {
          const child = spawn('taskset', loadArgs(o), { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk));
          child.on('exit', (code) =>
            code === 0
              ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult)
              : reject(new Error(`load exited ${code}`)),
          );
        }),
    ),
  );
}
