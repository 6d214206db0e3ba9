// The two kinds latency.ts creates in bursts, and for each: the child the operator makes, the same child made by
// nobody (the floor) and the write the operator sends for it (the reference controller sends the same).
import { DEFAULT_SERVING_IMAGE, resources, type ModelVersion, type TrainingJob } from '../../operator/src/api/index.js';
import { buildDeployment } from '../../operator/src/controllers/modelversion/serving.js';
import { DEPLOYMENT, JOB } from '../../operator/src/controllers/resources.js';
import { buildJob, LABEL_TRAININGJOB } from '../../operator/src/controllers/trainingjob/job.js';
import type { RestClient } from '../../operator/src/runtime/client.js';
import type { KubernetesObject, ResourceRef } from '../../operator/src/runtime/index.js';
import { servingDeployment } from '../../test/harness/serving.js';
import { benchTrainingJob } from './bed.js';

export interface Kind {
  parent: ResourceRef;
  child: ResourceRef;
  make(namespace: string, i: number): KubernetesObject;
  /** The child the bench creates itself for the floor: the same object, owned by nobody. */
  plain(namespace: string, i: number): KubernetesObject;
  /** The child the operator writes for `parent` (its own pure builder), written as the operator writes it. */
  writeChild(client: RestClient, parent: KubernetesObject): Promise<unknown>;
}

const trainingJob = (namespace: string, name: string) => benchTrainingJob(namespace, name) as TrainingJob;

export const KINDS: Record<string, Kind> = {
  trainingjob: {
    parent: resources.TrainingJob,
    child: JOB,
    make: (ns, i) => trainingJob(ns, `run-${i}`),
    plain: (ns, i) => {
      const job = buildJob({
        ...trainingJob(ns, `plain-${i}`),
        metadata: { name: `plain-${i}`, namespace: ns, uid: 'none' },
      } as TrainingJob);
      // Owned by nobody, and not labelled as a TrainingJob's: the operator's pod cache does not hold its pods.
      delete job.metadata!.ownerReferences;
      delete job.metadata!.labels![LABEL_TRAININGJOB];
      delete job.spec!.template.metadata!.labels![LABEL_TRAININGJOB];
      return job as KubernetesObject;
    },
    writeChild: (client, parent) => client.create(JOB, buildJob(parent as TrainingJob) as KubernetesObject),
  },
  modelversion: {
    parent: resources.ModelVersion,
    child: DEPLOYMENT,
    make: (ns, i) => ({
      apiVersion: 'modelops.dev/v1alpha1',
      kind: 'ModelVersion',
      metadata: { name: `model-${i}-v1`, namespace: ns },
      spec: { model: `model-${i}`, version: 'v1', artifact: { uri: 's3://models/bench/model.onnx' } },
    }),
    plain: (ns, i) =>
      servingDeployment({
        namespace: ns,
        model: `plain-${i}`,
        version: 'v1',
        replicas: 1,
        claim: 'models',
        modelPath: 'm.onnx',
      }) as KubernetesObject,
    // A new model's first version: one pod, the stable role, applied with force (the operator's own objects).
    writeChild: (client, parent) =>
      client.apply(
        DEPLOYMENT,
        buildDeployment(parent as ModelVersion, {
          defaultImage: DEFAULT_SERVING_IMAGE,
          replicas: 1,
          createdAsRole: 'stable',
        }) as KubernetesObject,
        { force: true },
      ),
  },
};
