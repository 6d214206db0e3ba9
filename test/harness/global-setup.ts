// Jest global setup for the integration project: brings the test bed up (or reuses one that is
// already up), installs crds/, and hands the kubeconfig to the test workers through the environment.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Jest loads this file outside its module mapper, so it cannot import ./paths.js.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const bedScript = `${repoRoot}/test/bed/testbed.sh`;
const stateFile = `${repoRoot}/.cache/integration-testbed.json`;

export default async function globalSetup(): Promise<void> {
  const wasUp = bedStatus();
  if (!wasUp) execFileSync('bash', [bedScript, 'up'], { stdio: 'inherit' });
  const kubeconfig = bedStatus();
  if (!kubeconfig) throw new Error('the test bed did not come up; see the [testbed] lines above');
  process.env.KUBECONFIG = kubeconfig;
  mkdirSync(`${repoRoot}/.cache`, { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ kubeconfig, startedByTests: !wasUp }));

  const kubectl = (...args: string[]) =>
    execFileSync('bash', [bedScript, 'kubectl', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  kubectl('apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`);
  kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', `${repoRoot}/crds`);
}

function bedStatus(): string | undefined {
  try {
    const out = execFileSync('bash', [bedScript, 'status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().replace(/^up: /, '');
  } catch {
    return undefined;
  }
}
