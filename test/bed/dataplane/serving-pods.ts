// The bed's stand-in for a kubelet, for serving pods only: watches pods labelled
// app.kubernetes.io/name=modelops-serving, runs one serving process per pod that kwok has given an IP, and
// stops it when the pod goes. Everything else about pods (scheduling, IPs, deletion) stays kwok's.
// Its view of what runs is written to <state dir>/pods.json for the test harness.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import {
  CoreV1Api,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { LaunchError, SERVING_POD_SELECTOR, planLaunch, type Launch, type RefLookup } from './launch.js';
import { PodProcess, type ContainerReport, type PodProcessHost } from './pod-process.js';

const RETRY_LAUNCH_MS = 2000;

export interface RunnerOptions {
  kubeConfig: KubeConfig;
  stateDir: string;
  volumesRoot: string;
  /** PATH of the serving processes (the container's image would set its own). */
  path: string;
  command: PodProcessHost['command'];
  addAddress(ip: string): Promise<void>;
  removeAddress(ip: string): Promise<void>;
}

export class ServingPodRunner {
  private readonly core: CoreV1Api;
  private readonly informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly processes = new Map<string, PodProcess>();
  /** Per pod uid, one operation at a time: a start finishes before the stop that follows it. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly refused = new Map<string, string>();
  private stopped = false;

  constructor(private readonly options: RunnerOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.informer = makeInformer(
      options.kubeConfig,
      '/api/v1/pods',
      () => this.core.listPodForAllNamespaces({ labelSelector: SERVING_POD_SELECTOR }),
      SERVING_POD_SELECTOR,
    );
    mkdirSync(`${options.stateDir}/logs`, { recursive: true });
  }

  async start(): Promise<void> {
    this.informer.on('add', (pod) => this.sync(pod));
    this.informer.on('update', (pod) => this.sync(pod));
    this.informer.on('delete', (pod) => this.enqueue(pod.metadata!.uid!, () => this.stopPod(pod.metadata!.uid!)));
    this.informer.on('error', (err: unknown) => {
      log('pod watch failed; restarting it', { err: String(err) });
      if (!this.stopped) setTimeout(() => void this.informer.start(), 1000);
    });
    await this.informer.start();
    this.writeState();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    await Promise.all([...this.queues.values()]);
    await Promise.all([...this.processes.values()].map((p) => p.stop()));
    this.processes.clear();
    this.writeState();
  }

  private sync(pod: V1Pod): void {
    const uid = pod.metadata!.uid!;
    const wanted = !pod.metadata?.deletionTimestamp && !!pod.status?.podIP && pod.status.phase === 'Running';
    if (wanted && !this.processes.has(uid) && !this.refused.has(uid)) this.enqueue(uid, () => this.startPod(pod));
    if (!wanted && this.processes.has(uid)) this.enqueue(uid, () => this.stopPod(uid));
  }

  /** Tries a refused launch again with the pod as it is now, if it is still there. */
  private retry(uid: string): void {
    if (this.stopped || !this.refused.has(uid)) return;
    const pod = this.informer.list().find((p) => p.metadata?.uid === uid);
    if (!pod) return void this.refused.delete(uid);
    this.enqueue(uid, () => this.startPod(pod));
  }

  private enqueue(uid: string, operation: () => Promise<void>): void {
    const next = (this.queues.get(uid) ?? Promise.resolve()).then(operation).catch((err: unknown) => {
      log('pod operation failed', { uid, err: String(err) });
    });
    this.queues.set(uid, next);
    void next.then(() => {
      if (this.queues.get(uid) === next) this.queues.delete(uid);
    });
  }

  private async startPod(pod: V1Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    if (this.stopped || this.processes.has(uid)) return;
    let launch: Launch;
    try {
      launch = await planLaunch(pod, this.options.volumesRoot, this.refLookup(), this.options.path);
    } catch (err) {
      if (!(err instanceof LaunchError)) throw err;
      // A kubelet's CreateContainerConfigError: reported in the pod's status, the pod stays unready, and
      // the launch is tried again a little later (the missing Secret may have been created since).
      if (this.refused.get(uid) !== err.message) {
        log('cannot run serving pod', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason: err.message });
        await this.reportWaiting(pod, err.message);
      }
      this.refused.set(uid, err.message);
      setTimeout(() => this.retry(uid), RETRY_LAUNCH_MS);
      return;
    }
    this.refused.delete(uid);
    const process = new PodProcess(launch, this.host());
    this.processes.set(uid, process);
    await process.start();
    log('serving pod started', { pod: `${launch.namespace}/${launch.name}`, ip: launch.ip, port: launch.port });
  }

  private async stopPod(uid: string): Promise<void> {
    this.refused.delete(uid);
    const process = this.processes.get(uid);
    if (!process) return;
    await process.stop();
    this.processes.delete(uid);
    this.writeState();
    log('serving pod stopped', { pod: `${process.launch.namespace}/${process.launch.name}` });
  }

  private host(): PodProcessHost {
    return {
      command: this.options.command,
      addAddress: this.options.addAddress,
      removeAddress: this.options.removeAddress,
      reportStatus: (launch, report) => this.reportStatus(launch, report),
      logFile: (launch) => `${this.options.stateDir}/logs/${launch.namespace}_${launch.name}.log`,
      changed: () => this.writeState(),
      log,
    };
  }

  /** Ready and ContainersReady follow the probe, as the kubelet's status manager writes them. */
  private async reportStatus(launch: Launch, report: ContainerReport): Promise<void> {
    const now = new Date().toISOString();
    const status = report.ready ? 'True' : 'False';
    const condition = (type: string) => ({ type, status, lastTransitionTime: now });
    const body = {
      status: {
        conditions: [condition('Ready'), condition('ContainersReady')],
        containerStatuses: [
          {
            name: launch.container,
            ready: report.ready,
            started: true,
            restartCount: report.restartCount,
            state: { waiting: null, running: { startedAt: report.startedAt } },
          },
        ],
      },
    };
    try {
      await this.core.patchNamespacedPodStatus(
        { name: launch.name, namespace: launch.namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      if ((err as { code?: number }).code !== 404)
        log('pod status write failed', { pod: launch.name, err: String(err) });
    }
  }

  private async reportWaiting(pod: V1Pod, message: string): Promise<void> {
    const containers = pod.spec?.containers ?? [];
    const body = {
      status: {
        containerStatuses: containers.map((c) => ({
          name: c.name,
          ready: false,
          started: false,
          state: { running: null, waiting: { reason: 'CreateContainerConfigError', message } },
        })),
      },
    };
    await this.core
      .patchNamespacedPodStatus(
        { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      )
      .catch((err: unknown) => log('pod status write failed', { pod: pod.metadata?.name, err: String(err) }));
  }

  private refLookup(): RefLookup {
    const read = async <T>(get: () => Promise<{ data?: Record<string, string> } & T>) => {
      try {
        return (await get()).data ?? {};
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    };
    return {
      configMap: (namespace, name) => read(() => this.core.readNamespacedConfigMap({ name, namespace })),
      secret: async (namespace, name) => {
        const data = await read(() => this.core.readNamespacedSecret({ name, namespace }));
        return (
          data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]))
        );
      },
    };
  }

  private writeState(): void {
    const pods = [...this.processes.values()].map((p) => p.state());
    const file = `${this.options.stateDir}/pods.json`;
    writeFileSync(`${file}.tmp`, JSON.stringify({ pods }, null, 1));
    renameSync(`${file}.tmp`, file);
  }
}

export function log(message: string, fields: object = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), message, ...fields }));
}
