// The serving image's entry point compiled as the image compiles it (tsc, serving-image/tsconfig.build.json),
// into .cache/testbed/serving-image/ inside the checkout so that its imports resolve to the checkout's
// node_modules. Rebuilt whenever a source file is newer than the last build, so pods never run stale code.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const outDir = `${repoRoot}/.cache/testbed/serving-image`;
const stampFile = `${outDir}/.built-from`;

let building: Promise<string> | undefined;

/** The compiled main.js, (re)built first when the sources changed. Concurrent callers share one build. */
export function servingEntryPoint(): Promise<string> {
  building ??= build().finally(() => (building = undefined));
  return building;
}

async function build(): Promise<string> {
  const entry = `${outDir}/serving-image/src/main.js`;
  const stamp = String(newestSource());
  if (readStamp() === stamp) return entry;
  const started = performance.now();
  await run(process.execPath, [
    `${repoRoot}/node_modules/typescript/bin/tsc`,
    '-p',
    `${repoRoot}/serving-image/tsconfig.build.json`,
    '--outDir',
    outDir,
  ]);
  writeFileSync(stampFile, stamp);
  console.log(
    JSON.stringify({ message: 'compiled the serving image', ms: Math.round(performance.now() - started), entry }),
  );
  return entry;
}

function readStamp(): string | undefined {
  try {
    return readFileSync(stampFile, 'utf8');
  } catch {
    return undefined;
  }
}

function newestSource(): number {
  let newest = statSync(`${repoRoot}/serving-image/tsconfig.build.json`).mtimeMs;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(`${repoRoot}/serving-image/src`);
  return newest;
}
