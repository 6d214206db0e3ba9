// Stops the test bed if this run started it; a bed that was already up (make testbed-up) stays up.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Jest loads this file outside its module mapper, so it cannot import ./paths.js.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const bedScript = `${repoRoot}/test/bed/testbed.sh`;
const stateFile = `${repoRoot}/.cache/integration-testbed.json`;

export default async function globalTeardown(): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { startedByTests: boolean };
  rmSync(stateFile, { force: true });
  if (state.startedByTests && process.env.MODELOPS_KEEP_TESTBED !== '1') {
    execFileSync('bash', [bedScript, 'down'], { stdio: 'inherit' });
  }
}
