// Pure builders of what one version runs as: its Deployment of the serving image (contract C1), the
// Service that reaches it alone (the Gateway API backend), and the HorizontalPodAutoscaler of a stable
// version that asks for one.
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Service,
  V1Volume,
  V1VolumeMount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { resources, type ModelVersion, type Role } from '../../api/index.js';
import { controllerReference, type KubernetesObject } from '../../runtime/index.js';
import { CONTAINER_PORT, SERVICE_PORT, versionLabels, versionObjectName, versionSelector } from './names.js';

const MODELS_VOLUME = 'models';
const MODELS_MOUNT = '/models';
const REFERENCE_VOLUME = 'reference';
const REFERENCE_MOUNT = '/reference';
/** The serving image's user (its Dockerfile's USER), so runAsNonRoot holds without an image inspection. */
const SERVING_UID = 65532;

export interface DeploymentParams {
  /** The operator's --serving-image, used unless the spec names one. */
  defaultImage: string;
  /** Pods to run; 'autoscaled' leaves the count to the version's HPA. */
  replicas: number | 'autoscaled';
  /** MODEL_ROLE for the pods: the role when the Deployment was created (informational, never changed after). */
  createdAsRole: Role;
}

const ownerReference = (mv: ModelVersion) =>
  controllerReference(resources.ModelVersion, mv as ModelVersion & KubernetesObject);

interface Mounted {
  /** What the container is told (MODEL_URI / REFERENCE_URI). */
  uri: string;
  volume?: V1Volume;
  mount?: V1VolumeMount;
}

/** pvc://CLAIM/PATH → the claim mounted read-only at `mountPath`, the file under it; other schemes pass through. */
export function mountUri(uri: string, volumeName: string, mountPath: string): Mounted {
  const pvc = /^pvc:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!pvc) return { uri };
  return {
    uri: `${mountPath}/${pvc[2]}`,
    volume: { name: volumeName, persistentVolumeClaim: { claimName: pvc[1]!, readOnly: true } },
    mount: { name: volumeName, mountPath, readOnly: true },
  };
}

/** The artifact's claim is `models` at /models; a reference on the same claim shares it, another gets its own. */
function artifacts(mv: ModelVersion): { model: Mounted; reference?: Mounted } {
  const model = mountUri(mv.spec.artifact.uri, MODELS_VOLUME, MODELS_MOUNT);
  const referenceUri = mv.spec.reference?.uri;
  if (!referenceUri) return { model };
  const sameClaim = model.volume && claimOf(referenceUri) === model.volume.persistentVolumeClaim?.claimName;
  const reference = sameClaim
    ? { uri: mountUri(referenceUri, MODELS_VOLUME, MODELS_MOUNT).uri }
    : mountUri(referenceUri, REFERENCE_VOLUME, REFERENCE_MOUNT);
  return { model, reference };
}

const claimOf = (uri: string) => /^pvc:\/\/([^/]+)\//.exec(uri)?.[1];

function container(mv: ModelVersion, params: DeploymentParams, mounted: ReturnType<typeof artifacts>): V1Container {
  const serving = mv.spec.serving ?? {};
  const env: V1EnvVar[] = [
    { name: 'MODEL_URI', value: mounted.model.uri },
    { name: 'MODEL_NAME', value: mv.spec.model },
    { name: 'MODEL_VERSION', value: mv.spec.version },
    { name: 'MODEL_ROLE', value: params.createdAsRole === 'stable' ? 'stable' : 'canary' },
    ...(mounted.reference ? [{ name: 'REFERENCE_URI', value: mounted.reference.uri }] : []),
    ...(serving.workers ? [{ name: 'WORKERS', value: String(serving.workers) }] : []),
    ...(serving.apiKeySecret
      ? [
          {
            name: 'API_KEY',
            valueFrom: { secretKeyRef: { name: serving.apiKeySecret.name, key: serving.apiKeySecret.key ?? 'token' } },
          },
        ]
      : []),
    ...((serving.env ?? []) as V1EnvVar[]),
  ];
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (serving.resources?.cpu !== undefined) requests.cpu = String(serving.resources.cpu);
  if (serving.resources?.cpuLimit !== undefined) limits.cpu = String(serving.resources.cpuLimit);
  if (serving.resources?.memory !== undefined) limits.memory = requests.memory = String(serving.resources.memory);
  const probe = (path: string, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: 5,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const mounts = [mounted.model.mount, mounted.reference?.mount].filter((m): m is V1VolumeMount => !!m);
  return {
    name: 'server',
    image: serving.image ?? params.defaultImage,
    ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
    env,
    ...(mv.spec.artifact.credentialsSecret
      ? { envFrom: [{ secretRef: { name: mv.spec.artifact.credentialsSecret.name } }] }
      : {}),
    // Empty maps are dropped by the API server: set only what is there, or every pass would differ.
    resources: {
      ...(Object.keys(requests).length ? { requests } : {}),
      ...(Object.keys(limits).length ? { limits } : {}),
    },
    // Live as soon as the process listens; ready only once the model is loaded and warmed up.
    livenessProbe: probe('/v2/health/live', 3),
    readinessProbe: probe('/v2/health/ready', 1),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: SERVING_UID,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** What a version's Deployment, Service and HPA share: its object name, labels and owner. */
function versionObjectMetadata(mv: ModelVersion) {
  return {
    name: versionObjectName(mv),
    namespace: mv.metadata.namespace,
    labels: versionLabels(mv),
    ownerReferences: [ownerReference(mv)],
  };
}

export function buildDeployment(mv: ModelVersion, params: DeploymentParams): V1Deployment {
  const labels = versionLabels(mv);
  const mounted = artifacts(mv);
  const volumes = [mounted.model.volume, mounted.reference?.volume].filter((v): v is V1Volume => !!v);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: versionObjectMetadata(mv),
    spec: {
      ...(params.replicas === 'autoscaled' ? {} : { replicas: params.replicas }),
      selector: { matchLabels: versionSelector(mv.metadata.name) },
      // A spec change (env, resources) replaces pods one at a time without ever lowering capacity.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels },
        spec: {
          containers: [container(mv, params, mounted)],
          ...(volumes.length ? { volumes } : {}),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // The serving image drains in-flight requests for SHUTDOWN_TIMEOUT (25 s) after SIGTERM.
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        },
      },
    },
  };
}

/** The version alone, behind a stable name: the backend an HTTPRoute weighs. */
export function buildVersionService(mv: ModelVersion): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: versionObjectMetadata(mv),
    spec: {
      selector: versionSelector(mv.metadata.name),
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** The HPA a stable version asks for with spec.serving.autoscaling; undefined otherwise. */
export function buildAutoscaler(mv: ModelVersion): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = mv.spec.serving?.autoscaling;
  if (!autoscaling) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: versionObjectMetadata(mv),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: versionObjectName(mv) },
      minReplicas: autoscaling.minReplicas ?? 1,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage ?? 70 },
          },
        },
      ],
    },
  };
}
