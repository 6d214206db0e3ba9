// Jest global setup for the integration project: brings the test bed up (or reuses one that is
// already up), installs crds/, and hands the kubeconfig and the data plane's addresses (what
// `testbed.sh env` exports) to the test workers through the environment.
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
  exportBedEnv();
  mkdirSync(`${repoRoot}/.cache`, { recursive: true });
  writeFileSync(stateFile, JSON.stringify({ kubeconfig, startedByTests: !wasUp }));

  const kubectl = (...args: string[]) =>
    execFileSync('bash', [bedScript, 'kubectl', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  kubectl('apply', '--server-side', '--force-conflicts', '-f', `${repoRoot}/crds`);
  kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', `${repoRoot}/crds`);
}

/** The variables `testbed.sh env` exports; those it does not (no data plane) are removed. */
const BED_VARIABLES = ['KUBECONFIG', 'MODELOPS_PROMETHEUS_URL', 'MODELOPS_TESTBED_VOLUMES', 'MODELOPS_TESTBED_SERVING'];

function exportBedEnv(): void {
  const env = execFileSync('bash', ['-c', 'eval "$(bash "$1" env)" && env -0', 'bash', bedScript], {
    encoding: 'utf8',
  });
  const exported = new Map(
    env.split('\0').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  for (const name of BED_VARIABLES) {
    const value = exported.get(name);
    if (value) process.env[name] = value;
    else delete process.env[name];
  }
}

function bedStatus(): string | undefined {
  try {
    const out = execFileSync('bash', [bedScript, 'status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().replace(/^up: /, '');
  } catch {
    return undefined;
  }
}
