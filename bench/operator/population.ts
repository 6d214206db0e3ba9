// The population of the steady-state and recovery benches: 5000 objects of the three kinds in one
// namespace, kept between runs, settled (every TrainingJob's run finished, every object's status written
// for its generation) before anything is measured.
import { pathToFileURL } from 'node:url';
import { resources } from '../../operator/src/api/index.js';
import type { KubernetesObject } from '../../operator/src/runtime/index.js';
import type { RestClient } from '../../operator/src/runtime/client.js';
import {
  adminClient,
  benchTrainingJob,
  createAll,
  createNamespace,
  NAMESPACE,
  prepareBed,
  startOperator,
  waitForIdle,
} from './bed.js';

export const POPULATION_NAMESPACE = 'bench-population';

/** How many of each kind; 5000 in all. */
export const POPULATION = { TrainingJob: 2000, ModelVersion: 2000, DriftMonitor: 1000 } as const;
export const POPULATION_SIZE = Object.values(POPULATION).reduce((a, b) => a + b, 0);

type Kind = keyof typeof POPULATION;

function make(kind: Kind, i: number): KubernetesObject {
  const metadata = { namespace: POPULATION_NAMESPACE, name: `${kind.toLowerCase()}-${i}` };
  const apiVersion = 'modelops.dev/v1alpha1';
  switch (kind) {
    case 'TrainingJob':
      return benchTrainingJob(POPULATION_NAMESPACE, metadata.name);
    case 'ModelVersion':
      return {
        apiVersion,
        kind,
        metadata,
        spec: { model: `model-${i}`, version: 'v1', artifact: { uri: `s3://models/model-${i}/v1/model.onnx` } },
      };
    case 'DriftMonitor':
      return {
        apiVersion,
        kind,
        metadata,
        spec: { model: `model-${i}`, tests: [{ method: 'PSI', warning: 0.1, critical: 0.25 }] },
      };
  }
}

const isSettled = (kind: Kind, obj: KubernetesObject): boolean => {
  const status = obj.status as { phase?: string; observedGeneration?: number } | undefined;
  if (status?.observedGeneration !== obj.metadata?.generation) return false;
  return kind !== 'TrainingJob' || status?.phase === 'Succeeded' || status?.phase === 'Failed';
};

/** Counts of objects per kind, and how many are not settled yet. */
async function census(client: RestClient): Promise<{ missing: Map<Kind, number[]>; unsettled: number }> {
  const missing = new Map<Kind, number[]>();
  let unsettled = 0;
  for (const kind of Object.keys(POPULATION) as Kind[]) {
    const items = (await client.list(resources[kind], { namespace: POPULATION_NAMESPACE })).items;
    const names = new Set(items.map((o) => o.metadata!.name!));
    const absent = [...Array(POPULATION[kind]).keys()].filter((i) => !names.has(make(kind, i).metadata!.name!));
    if (absent.length) missing.set(kind, absent);
    unsettled += items.filter((o) => !isSettled(kind, o)).length;
  }
  return { missing, unsettled };
}

/**
 * Makes sure the population exists and has settled: creates what is missing and, if anything is not
 * settled, runs an operator until it is. Returns the number of objects.
 */
export async function ensureSettledPopulation(client: RestClient, operatorKubeconfig: string): Promise<number> {
  try {
    await client.get(NAMESPACE, { name: POPULATION_NAMESPACE });
  } catch {
    await createNamespace(client, POPULATION_NAMESPACE);
  }
  let { missing, unsettled } = await census(client);
  const toCreate = [...missing].flatMap(([kind, indexes]) =>
    indexes.map((i) => ({ ref: resources[kind], obj: make(kind, i) })),
  );
  if (!toCreate.length && !unsettled) return POPULATION_SIZE;
  console.error(`[bench] population: creating ${toCreate.length} objects, ${unsettled} not settled yet; settling them`);
  const op = await startOperator(operatorKubeconfig, { name: 'population' });
  try {
    await createAll(client, toCreate, 16);
    for (;;) {
      await waitForIdle(op, { quietMs: 5000, timeoutMs: 60 * 60_000 });
      ({ missing, unsettled } = await census(client));
      if (!unsettled) break;
      console.error(`[bench] population: ${unsettled} objects not settled yet`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  } finally {
    await op.stop();
  }
  return POPULATION_SIZE;
}

// Run on its own, it only creates and settles the population (with this checkout's operator), so that
// an earlier commit's operator (--operator-root) can be measured against it without settling it itself.
//   node --import tsx bench/operator/population.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { operatorKubeconfig } = prepareBed();
  ensureSettledPopulation(adminClient(), operatorKubeconfig).then(
    (n) => {
      console.log(`${n} objects in ${POPULATION_NAMESPACE}, settled`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
