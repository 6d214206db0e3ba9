// Sequential GET latency against the test bed: client-node 1.4's typed client (a new connection
// per call) versus the runtime's keep-alive Client. Prints figures; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)" && node --import tsx bench/runtime/get-latency.ts
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Manager, createLogger, type ResourceRef } from '../../operator/src/runtime/index.js';

const NAMESPACE: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
const ROUNDS = Number(process.env.ROUNDS ?? 500);

async function perGet(get: () => Promise<unknown>): Promise<{ mean: number; p99: number }> {
  for (let i = 0; i < 20; i++) await get();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await get();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    p99: samples[Math.floor(samples.length * 0.99)]!,
  };
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const core = kubeConfig.makeApiClient(CoreV1Api);
const manager = new Manager({ kubeConfig, logger: createLogger({ level: 'warn' }) });
const clientNode = await perGet(() => core.readNamespace({ name: 'default' }));
const runtime = await perGet(() => manager.client.get(NAMESPACE, { name: 'default' }));
console.log(`sequential GET /api/v1/namespaces/default, ${ROUNDS} rounds`);
console.log(`  client-node CoreV1Api  mean ${clientNode.mean.toFixed(2)} ms  p99 ${clientNode.p99.toFixed(2)} ms`);
console.log(`  runtime Client         mean ${runtime.mean.toFixed(2)} ms  p99 ${runtime.p99.toFixed(2)} ms`);
console.log(`  ratio ${(clientNode.mean / runtime.mean).toFixed(1)}x`);
