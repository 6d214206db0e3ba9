// Cold start (not a test): from spawning the serving process to its first 200 on /v2/health/ready, for a
// 10 MB and a 100 MB model, read from a local file and from an http server on this machine. The load's own
// log line splits it into phases (fetch, session creation, reference, warm-up); the rest is the process
// starting (Node, the modules, onnxruntime's native binding) and listening.
// Run: node --import tsx bench/serving/cold-start.ts   (ROUNDS=3; the models are written once under .cache)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { compiled } from './processes.js';

const ROUNDS = Number(process.env.ROUNDS ?? '3');
const SIZES_MB = [10, 100];
const DIR = '.cache/bench-serving/models';
const PORT = 18095;

if (spawnSync('npx', ['tsc', '-p', 'bench/serving/tsconfig.build.json'], { stdio: 'inherit' }).status !== 0)
  throw new Error('tsc failed');
mkdirSync(DIR, { recursive: true });
for (const size of SIZES_MB) {
  const path = join(DIR, `model-${size}mb.onnx`);
  if (existsSync(path)) continue;
  const made = spawnSync('/usr/bin/python3', ['bench/serving/make-large-model.py', String(size), path], {
    stdio: 'inherit',
  });
  if (made.status !== 0) throw new Error(`could not write ${path}`);
}

// The http source: a plain static file server, in this process.
const files = createServer((req, res) => {
  const path = join(DIR, req.url!.slice(1));
  if (!existsSync(path)) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-length': statSync(path).size });
  createReadStream(path).pipe(res);
});
files.listen(0, '127.0.0.1');
await once(files, 'listening');
const filesPort = (files.address() as AddressInfo).port;

interface Start {
  readyMillis: number;
  listeningMillis: number;
  phases: Record<string, number>;
}

async function coldStart(uri: string): Promise<Start> {
  const started = performance.now();
  const child = spawn(process.execPath, [compiled('serving-image/src/main.ts')], {
    env: { ...process.env, PORT: String(PORT), HOST: '127.0.0.1', MODEL_NAME: 'fraud', MODEL_URI: uri },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let listeningMillis = NaN;
  let loaded: (phases: Record<string, number>) => void;
  const phases = new Promise<Record<string, number>>((resolve) => (loaded = resolve));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as { msg: string; phases?: Record<string, number> };
    if (line.msg.startsWith('listening')) listeningMillis = performance.now() - started;
    if (line.phases) loaded(line.phases);
  });
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${PORT}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      // The load's log line may reach us just after the first 200.
      if (ready) return { readyMillis: performance.now() - started, listeningMillis, phases: await phases };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

const best = new Map<string, Start>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const size of SIZES_MB) {
    for (const source of ['file', 'http']) {
      const name = `model-${size}mb.onnx`;
      const uri = source === 'file' ? join(DIR, name) : `http://127.0.0.1:${filesPort}/${name}`;
      const start = await coldStart(uri);
      const key = `${size} MB from ${source}`;
      console.log(`round ${round} ${key}: ${JSON.stringify(start)}`);
      if (start.readyMillis < (best.get(key)?.readyMillis ?? Infinity)) best.set(key, start);
    }
  }
}
files.close();

console.log('\n(best of the rounds, ms)     ready   listening   fetch   session   warm-up');
for (const [key, s] of best) {
  const p = (name: string): string => String(s.phases[name] ?? '-').padStart(7);
  console.log(
    `${key.padEnd(26)} ${s.readyMillis.toFixed(0).padStart(7)} ${s.listeningMillis.toFixed(0).padStart(11)} ${p('fetch')} ${p('session').padStart(9)} ${p('warmUp').padStart(9)}`,
  );
}
