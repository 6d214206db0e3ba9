// Pure builders of the objects a TrainingJob runs as: the batch/v1 Job, the headless Service of a
// multi-node run and, under Dynamic Resource Allocation, the ResourceClaimTemplate for its GPUs.
import type { V1PodSpec, V1Container, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { parsePvcUri, pvcUri, resources, type TrainingJob } from '../../api/index.js';
import { controllerReference, type OwnerReference, type Wire } from '../../runtime/index.js';
import type { Job, Service } from '../resources.js';

export const LABEL_TRAININGJOB = 'modelops.dev/trainingjob';
const LABEL_QUEUE = 'kueue.x-k8s.io/queue-name';
const GPU_RESOURCE = 'nvidia.com/gpu';
const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';
export const GPU_TOLERATION = { key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' } as const;
export const MASTER_PORT = 29500;
/** The training image's exit code for bad input (hyperparameters, dataset, output): retrying cannot help. */
export const EXIT_INVALID_INPUT = 2;
/** The container whose termination message is the run's report. */
export const TRAINER_CONTAINER = 'trainer';
/** An Indexed Job's pod carries its index (its rank) here. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** Where a pvc:// output claim is mounted in the training container. */
const OUTPUT_MOUNT = '/output';
const GPU_CLAIM = 'gpus';

/** A ResourceClaimTemplate (resource.k8s.io/v1); client-node 1.4 has no type for it. A type, not an interface: a KubernetesObject as it is. */
export type ResourceClaimTemplate = {
  apiVersion: 'resource.k8s.io/v1';
  kind: 'ResourceClaimTemplate';
  metadata: { name: string; namespace: string; labels: Record<string, string>; ownerReferences: OwnerReference[] };
  spec: {
    spec: {
      devices: {
        requests: {
          name: string;
          exactly: {
            deviceClassName: string;
            allocationMode: 'ExactCount';
            count: number;
            selectors?: { cel: { expression: string } }[];
          };
        }[];
      };
    };
  };
};

const ownerReference = (tj: TrainingJob): OwnerReference => controllerReference(resources.TrainingJob, tj);

const workersServiceName = (tj: TrainingJob) => `${tj.metadata.name}-workers`;
const claimTemplateName = (tj: TrainingJob) => `${tj.metadata.name}-gpus`;
const gpusPerNode = (tj: TrainingJob) => tj.spec.gpus?.count ?? 1;
const nodeCount = (tj: TrainingJob) => tj.spec.nodes ?? 1;
export const totalGpus = (tj: TrainingJob) => gpusPerNode(tj) * nodeCount(tj);
const isMultiNode = (tj: TrainingJob) => nodeCount(tj) > 1;
const usesDra = (tj: TrainingJob) => tj.spec.gpus?.allocation === 'DynamicResourceAllocation' && gpusPerNode(tj) > 0;

function labels(tj: TrainingJob): Record<string, string> {
  const queue = tj.spec.runPolicy?.queueName;
  return {
    'app.kubernetes.io/name': 'modelops-training',
    'app.kubernetes.io/managed-by': 'modelops',
    [LABEL_TRAININGJOB]: tj.metadata.name,
    ...(queue ? { [LABEL_QUEUE]: queue } : {}),
  };
}

/** Where the artifact lands, as the container sees it: a path under the PVC mount, or the s3:// URI. */
export function containerOutputUri(uri: string): string {
  const pvc = parsePvcUri(uri);
  return pvc ? `${OUTPUT_MOUNT}${pvc.path}` : uri;
}

/**
 * The reverse: a path the container reported (under the output mount) as the URI the rest of the
 * cluster can use (pvc://CLAIM/PATH). s3:// and other URIs pass through.
 */
export function clusterUri(tj: TrainingJob, reported: string): string {
  const pvc = parsePvcUri(tj.spec.output.uri);
  const underMount = reported === OUTPUT_MOUNT || reported.startsWith(`${OUTPUT_MOUNT}/`);
  return pvc && underMount ? pvcUri({ claim: pvc.claim, path: reported.slice(OUTPUT_MOUNT.length) }) : reported;
}

function outputVolume(uri: string): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const pvc = parsePvcUri(uri);
  if (!pvc) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: 'output', persistentVolumeClaim: { claimName: pvc.claim } }],
    mounts: [{ name: 'output', mountPath: OUTPUT_MOUNT }],
  };
}

function env(tj: TrainingJob): V1EnvVar[] {
  const { spec } = tj;
  const vars: V1EnvVar[] = [
    { name: 'MODELOPS_DATASET_URI', value: spec.dataset.uri },
    { name: 'MODELOPS_DATASET_VERSION', value: spec.dataset.version ?? '' },
    { name: 'MODELOPS_OUTPUT_URI', value: containerOutputUri(spec.output.uri) },
    { name: 'MODELOPS_HYPERPARAMETERS', value: JSON.stringify(spec.hyperparameters ?? {}) },
  ];
  const nodes = nodeCount(tj);
  if (isMultiNode(tj)) {
    const master = `${tj.metadata.name}-0.${workersServiceName(tj)}`;
    const rank: V1EnvVar['valueFrom'] = {
      fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` },
    };
    vars.push(
      { name: 'MASTER_ADDR', value: master },
      { name: 'MASTER_PORT', value: String(MASTER_PORT) },
      { name: 'WORLD_SIZE', value: String(nodes) },
      { name: 'RANK', valueFrom: rank },
      { name: 'NODE_RANK', valueFrom: rank },
      // torchrun reads its flags from PET_* variables.
      { name: 'PET_NNODES', value: String(nodes) },
      { name: 'PET_NPROC_PER_NODE', value: String(Math.max(1, gpusPerNode(tj))) },
      { name: 'PET_NODE_RANK', valueFrom: rank },
      { name: 'PET_MASTER_ADDR', value: master },
      { name: 'PET_MASTER_PORT', value: String(MASTER_PORT) },
    );
  }
  return [...vars, ...((spec.env ?? []) as V1EnvVar[])];
}

function container(tj: TrainingJob, mounts: V1VolumeMount[]): V1Container {
  const { spec } = tj;
  const gpus = gpusPerNode(tj);
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (spec.resources?.cpu !== undefined) limits.cpu = requests.cpu = String(spec.resources.cpu);
  if (spec.resources?.memory !== undefined) limits.memory = requests.memory = String(spec.resources.memory);
  if (gpus > 0 && !usesDra(tj)) limits[GPU_RESOURCE] = String(gpus);
  return {
    name: TRAINER_CONTAINER,
    image: spec.image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    env: env(tj),
    ...(spec.output.credentialsSecret
      ? { envFrom: [{ secretRef: { name: spec.output.credentialsSecret.name } }] }
      : {}),
    resources: { limits, requests, ...(usesDra(tj) ? { claims: [{ name: GPU_CLAIM }] } : {}) },
    volumeMounts: mounts,
    // The program reports metrics here; logs are the fallback when it dies before writing them.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(isMultiNode(tj) ? { ports: [{ name: 'rendezvous', containerPort: MASTER_PORT }] } : {}),
  };
}

function podSpec(tj: TrainingJob): V1PodSpec {
  const { spec } = tj;
  const { volumes, mounts } = outputVolume(spec.output.uri);
  const gpus = gpusPerNode(tj) > 0;
  const model = spec.gpus?.model;
  return {
    restartPolicy: 'Never',
    containers: [container(tj, mounts)],
    volumes,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(gpus ? { tolerations: [GPU_TOLERATION] } : {}),
    ...(gpus && model && !usesDra(tj) ? { nodeSelector: { [GPU_PRODUCT_LABEL]: model } } : {}),
    ...(usesDra(tj) ? { resourceClaims: [{ name: GPU_CLAIM, resourceClaimTemplateName: claimTemplateName(tj) }] } : {}),
    ...(isMultiNode(tj) ? { subdomain: workersServiceName(tj) } : {}),
  };
}

export function buildJob(tj: TrainingJob): Job {
  const { spec } = tj;
  const nodes = nodeCount(tj);
  const run = spec.runPolicy;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: tj.metadata.name,
      namespace: tj.metadata.namespace,
      labels: labels(tj),
      ownerReferences: [ownerReference(tj)],
    },
    spec: {
      backoffLimit: run?.backoffLimit ?? 0,
      suspend: run?.suspend ?? false,
      ...(run?.activeDeadlineSeconds ? { activeDeadlineSeconds: run.activeDeadlineSeconds } : {}),
      // No ttlSecondsAfterFinished here: the Job's TTL could delete it (and its pods, with the report)
      // before the outcome is recorded. The controller deletes it after recording (see controller.ts).
      ...(isMultiNode(tj) ? { completionMode: 'Indexed', completions: nodes, parallelism: nodes } : {}),
      podFailurePolicy: {
        rules: [
          // Bad input fails the run at once instead of spending the retries on it.
          {
            action: 'FailJob',
            onExitCodes: { containerName: TRAINER_CONTAINER, operator: 'In', values: [EXIT_INVALID_INPUT] },
          },
          // A pod evicted or preempted (node drain, higher-priority job) is retried without counting as a failure.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: {
          // Ours last: the pods must keep the label the controller finds them by.
          labels: { ...spec.podMetadata?.labels, ...labels(tj) },
          annotations: { ...spec.podMetadata?.annotations },
        },
        spec: podSpec(tj) as Wire<V1PodSpec>,
      },
    },
  };
}

/** Multi-node runs reach rank 0 by a stable DNS name: `<job>-0.<service>`. */
export function buildWorkersService(tj: TrainingJob): Service | undefined {
  if (!isMultiNode(tj)) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: workersServiceName(tj),
      namespace: tj.metadata.namespace,
      labels: labels(tj),
      ownerReferences: [ownerReference(tj)],
    },
    spec: {
      clusterIP: 'None',
      // Workers must resolve each other before they are ready, or the rendezvous never starts.
      publishNotReadyAddresses: true,
      selector: { [LABEL_TRAININGJOB]: tj.metadata.name },
      ports: [{ name: 'rendezvous', port: MASTER_PORT, targetPort: MASTER_PORT }],
    },
  };
}

export function buildClaimTemplate(tj: TrainingJob): ResourceClaimTemplate | undefined {
  if (!usesDra(tj)) return undefined;
  const model = tj.spec.gpus?.model;
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaimTemplate',
    metadata: {
      name: claimTemplateName(tj),
      namespace: tj.metadata.namespace,
      labels: labels(tj),
      ownerReferences: [ownerReference(tj)],
    },
    spec: {
      spec: {
        devices: {
          requests: [
            {
              name: 'gpu',
              exactly: {
                deviceClassName: tj.spec.gpus?.deviceClassName ?? 'gpu.nvidia.com',
                allocationMode: 'ExactCount',
                count: gpusPerNode(tj),
                ...(model
                  ? {
                      selectors: [
                        {
                          cel: {
                            expression: `device.attributes["gpu.nvidia.com"].productName == ${JSON.stringify(model)}`,
                          },
                        },
                      ],
                    }
                  : {}),
              },
            },
          ],
        },
      },
    },
  };
}
