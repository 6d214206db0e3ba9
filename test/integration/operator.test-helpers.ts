// The operator as it ships — its own entry point as a process, out of cluster against the bed — for
// the integration tests that need the whole process (flags, logs, signals, its own credentials).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../harness/paths.js';

export type LogLine = Record<string, unknown>;

export interface OperatorProcess {
  process: ChildProcess;
  ports: { metrics: number; health: number };
  /** Every JSON log line so far. */
  logs: LogLine[];
  /** Resolves with the first log line `predicate` accepts (rejects if the process exits first). */
  logLine(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the operator with `args` (ports are added) and resolves once it logs that it started: by default
 * `operator/src/main.ts` under tsx; `entry` runs another build of it (node ENTRY, in ENTRY's directory).
 */
export async function startOperator(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry?: string,
): Promise<OperatorProcess> {
  const ports = { metrics: await freePort(), health: await freePort() };
  const child = spawn(
    'node',
    [
      ...(entry ? [entry] : ['--import', 'tsx', 'operator/src/main.ts']),
      `--metrics-port=${ports.metrics}`,
      `--health-port=${ports.health}`,
      ...args,
    ],
    {
      cwd: entry ? dirname(entry) : repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    logs.push(JSON.parse(line) as LogLine);
    for (const wake of waiters.splice(0)) wake();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const logLine = async (predicate: (line: LogLine) => boolean): Promise<LogLine> => {
    for (;;) {
      const hit = logs.find(predicate);
      if (hit) return hit;
      const next = new Promise<'line'>((resolve) => waiters.push(() => resolve('line')));
      if ((await Promise.race([next, exited])) !== 'line')
        throw new Error(
          `the operator exited (${child.exitCode}) first; stderr: ${stderr.join('\n')}; logs: ${JSON.stringify(logs.slice(-5))}`,
        );
    }
  };
  await logLine((l) => l.msg === 'modelops operator started');
  return {
    process: child,
    ports,
    logs,
    logLine,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
