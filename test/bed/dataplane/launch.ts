// What the bed runs for one serving pod, derived from the pod as a kubelet would: the container's environment
// (values, field references, ConfigMap and Secret references, $(VAR) expansion), its PVC mounts mapped to local
// directories standing in for the claims (contract C1), where it listens and how its readiness is probed.
import type { V1Container, V1EnvVar, V1EnvFromSource, V1Pod } from '@kubernetes/client-node';

/** The label that asks the bed to run a pod for real (the serving image's pods carry it, contract C1). */
export const SERVING_POD_SELECTOR = 'app.kubernetes.io/name=modelops-serving';
const DEFAULT_PORT = 8080;
const DEFAULT_READINESS_PATH = '/v2/health/ready';

export interface Launch {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  ip: string;
  port: number;
  /** The process's whole environment (nothing of the bed's own leaks in). */
  env: Record<string, string>;
  readinessPath: string;
  readinessPort: number;
}

/** Reads the keys of ConfigMaps and Secrets the pod refers to; undefined when the object or key is absent. */
export interface RefLookup {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export class LaunchError extends Error {}

/** The directory standing in for a claim: `<volumes root>/<namespace>/<claim>`. */
export function claimDirectory(volumesRoot: string, namespace: string, claim: string): string {
  return `${volumesRoot}/${namespace}/${claim}`;
}

/** The container the bed runs: the one named `server` (C1), else the only one. */
export function servingContainer(pod: V1Pod): V1Container {
  const containers = pod.spec?.containers ?? [];
  const container =
    containers.find((c) => c.name === 'server') ?? (containers.length === 1 ? containers[0] : undefined);
  if (!container) throw new LaunchError('no container named "server" and more than one container');
  return container;
}

export async function planLaunch(
  pod: V1Pod,
  volumesRoot: string,
  lookup: RefLookup,
  basePath: string,
): Promise<Launch> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const ip = pod.status?.podIP;
  if (!ip) throw new LaunchError('the pod has no IP yet');
  const container = servingContainer(pod);
  const port = containerPort(container, 'http') ?? container.ports?.[0]?.containerPort ?? DEFAULT_PORT;
  const mounts = claimMounts(pod, container, volumesRoot);
  const env: Record<string, string> = { PATH: basePath };
  for (const source of container.envFrom ?? []) Object.assign(env, await envFromSource(source, namespace, lookup));
  for (const variable of container.env ?? []) {
    const value = await envValue(variable, pod, lookup);
    if (value !== undefined) env[variable.name] = expand(value, env);
  }
  for (const [name, value] of Object.entries(env)) env[name] = mapMountedPath(value, mounts);
  env.HOST = ip;
  env.PORT = String(port);
  const probe = container.readinessProbe?.httpGet;
  const probePort = probe?.port;
  return {
    namespace,
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    container: container.name,
    ip,
    port,
    env,
    readinessPath: probe?.path ?? DEFAULT_READINESS_PATH,
    readinessPort:
      typeof probePort === 'number'
        ? probePort
        : typeof probePort === 'string'
          ? (containerPort(container, probePort) ?? (Number(probePort) || port))
          : port,
  };
}

function containerPort(container: V1Container, name: string): number | undefined {
  return container.ports?.find((p) => p.name === name)?.containerPort;
}

interface ClaimMount {
  mountPath: string;
  directory: string;
}

/** The container's PVC mounts, longest mount path first so nested mounts win. */
export function claimMounts(pod: V1Pod, container: V1Container, volumesRoot: string): ClaimMount[] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const mounts: ClaimMount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const claim = pod.spec?.volumes?.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const directory = claimDirectory(volumesRoot, namespace, claim) + (mount.subPath ? `/${mount.subPath}` : '');
    mounts.push({ mountPath: mount.mountPath.replace(/\/+$/, ''), directory });
  }
  return mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
}

/** Rewrites a path under a claim's mount path (as an env value names it) to the claim's local directory. */
export function mapMountedPath(value: string, mounts: readonly ClaimMount[]): string {
  for (const { mountPath, directory } of mounts) {
    if (value === mountPath) return directory;
    if (value.startsWith(`${mountPath}/`)) return directory + value.slice(mountPath.length);
  }
  return value;
}

/** Kubernetes' $(VAR) expansion against the variables defined so far; $$( escapes, unknown names stay. */
export function expand(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (defined[name] ?? match),
  );
}

async function envFromSource(source: V1EnvFromSource, namespace: string, lookup: RefLookup) {
  const prefix = source.prefix ?? '';
  const data = source.configMapRef
    ? await required(lookup.configMap(namespace, source.configMapRef.name ?? ''), source.configMapRef, 'ConfigMap')
    : source.secretRef
      ? await required(lookup.secret(namespace, source.secretRef.name ?? ''), source.secretRef, 'Secret')
      : {};
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [prefix + k, v]));
}

async function required<T>(value: Promise<T | undefined>, ref: { name?: string; optional?: boolean }, kind: string) {
  const found = await value;
  if (found === undefined && !ref.optional) throw new LaunchError(`${kind} "${ref.name}" not found`);
  return found;
}

async function envValue(variable: V1EnvVar, pod: V1Pod, lookup: RefLookup): Promise<string | undefined> {
  if (variable.value !== undefined) return variable.value;
  const from = variable.valueFrom;
  if (!from) return '';
  const namespace = pod.metadata?.namespace ?? 'default';
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath);
  for (const [ref, kind, read] of [
    [from.configMapKeyRef, 'ConfigMap', lookup.configMap.bind(lookup)],
    [from.secretKeyRef, 'Secret', lookup.secret.bind(lookup)],
  ] as const) {
    if (!ref) continue;
    const value = (await read(namespace, ref.name ?? ''))?.[ref.key];
    if (value === undefined && !ref.optional)
      throw new LaunchError(`${variable.name}: key "${ref.key}" of ${kind} "${ref.name}" not found`);
    return value;
  }
  return undefined; // resourceFieldRef: the bed sets no resource limits on its processes
}

/** The downward API's field paths a kubelet resolves for env. */
export function fieldValue(pod: V1Pod, fieldPath: string): string {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return pod.metadata?.[keyed[1] as 'labels' | 'annotations']?.[keyed[2]!] ?? '';
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
    'status.podIPs': pod.status?.podIPs?.map((p) => p.ip).join(','),
  };
  if (!(fieldPath in fields)) throw new LaunchError(`unsupported fieldRef ${fieldPath}`);
  return fields[fieldPath] ?? '';
}
