// Starting and stopping reference-controller.ts as a process of its own, as latency.ts does.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processFigures, type ProcessFigures } from './bed.js';

/** What reference-controller.ts prints once its watch has synced. */
export const REFERENCE_STARTED = 'reference controller started';

export interface ReferenceProcess {
  figures(): ProcessFigures;
  stop(): Promise<void>;
}

/** Starts the reference controller for `kind` in `namespace`, with the operator's kubeconfig; resolves once it watches. */
export async function startReferenceController(
  kind: string,
  namespace: string,
  operatorKubeconfig: string,
): Promise<ReferenceProcess> {
  const child = spawn(
    'node',
    [
      '--import',
      'tsx',
      new URL('./reference-controller.ts', import.meta.url).pathname,
      `--kind=${kind}`,
      `--namespace=${namespace}`,
    ],
    { env: { ...process.env, KUBECONFIG: operatorKubeconfig }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line === REFERENCE_STARTED && resolve());
    void exited.then(() => reject(new Error('the reference controller exited before it started')));
  });
  return {
    figures: () => processFigures(child.pid!),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
