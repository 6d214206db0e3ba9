// Stops the test bed if this run started it; a bed that was already up (make testbed-up) stays up.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { bedScript, stateFile } from './paths.js';

export default async function globalTeardown(): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { startedByTests: boolean };
  rmSync(stateFile, { force: true });
  if (state.startedByTests && process.env.MODELOPS_KEEP_TESTBED !== '1') {
    execFileSync('bash', [bedScript, 'down'], { stdio: 'inherit' });
  }
}
