// The training program run for real for a TrainingJob's pod: the smallest honest stand-in for a GPU node
// that runs the training image. kwok simulates every Job pod; a pod annotated
// `sim.modelops.dev/runner: training-image` (with `sim.modelops.dev/outcome: run`, so kwok keeps it Running)
// gets `training-image/`'s program (`python3 -m modelops_train`, Debian's CPU PyTorch) started on this
// machine with the trainer container's env, each PVC mount mapped to the directory standing in for the claim
// (contract C1, as the data plane does for serving pods). When the program exits, the pod is ended the way
// the kubelet would end it: its termination message (paths mapped back under the mount) and exit code, as
// the annotations kwok's stages turn into the container's terminated state. So the artifact and reference a
// retraining run reports are files the serving pods of the version it registers really load.
// Not imitated: resource limits, GPUs (the program trains on CPU), multi-node ranks.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { kubeConfig, kubectl } from './cluster.js';
import { claimDirectory } from './dataplane.js';
import { repoRoot } from './paths.js';

export const RUNNER_ANNOTATION = 'sim.modelops.dev/runner';
/** What a TrainingJob's spec.podMetadata.annotations carry for its pod to be trained for real. */
export const TRAIN_FOR_REAL = { [RUNNER_ANNOTATION]: 'training-image', 'sim.modelops.dev/outcome': 'run' };

const TRAINER_CONTAINER = 'trainer';

export interface TrainingRun {
  pod: string;
  exitCode: number;
  /** The termination message as the pod reports it (paths under the container's mounts). */
  message: string;
  log: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface TrainingRunner {
  /** Runs finished so far, in order. */
  readonly runs: TrainingRun[];
  stop(): Promise<void>;
}

/** Watches `namespace`'s pods and trains for real those annotated TRAIN_FOR_REAL, one at a time. */
export async function startTrainingRunner(
  namespace: string,
  onRun: (run: TrainingRun) => void = () => {},
): Promise<TrainingRunner> {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    () => core.listNamespacedPod({ namespace }),
    'modelops.dev/trainingjob',
  );
  const logs = await mkdtemp(join(tmpdir(), `modelops-training-${namespace}-`));
  const seen = new Set<string>();
  const runs: TrainingRun[] = [];
  let queue = Promise.resolve();
  let stopped = false;
  const consider = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? '';
    if (stopped || seen.has(uid) || pod.metadata?.annotations?.[RUNNER_ANNOTATION] !== 'training-image') return;
    if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) return;
    seen.add(uid);
    queue = queue.then(async () => {
      try {
        const run = await train(pod, logs);
        runs.push(run);
        onRun(run);
      } catch (err) {
        console.error(`training runner: pod ${pod.metadata?.name}: ${(err as Error).message}`);
      }
    });
  };
  informer.on('add', consider);
  informer.on('update', consider);
  informer.on('error', () => setTimeout(() => !stopped && void informer.start(), 1000));
  await informer.start();
  return {
    runs,
    async stop() {
      stopped = true;
      await informer.stop();
      await queue;
    },
  };
}

async function train(pod: V1Pod, logs: string): Promise<TrainingRun> {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  const container = pod.spec!.containers.find((c) => c.name === TRAINER_CONTAINER) ?? pod.spec!.containers[0]!;
  // mountPath → the claim's local directory (or its subPath below it).
  const mounts: [string, string][] = [];
  for (const mount of container.volumeMounts ?? []) {
    const claim = pod.spec!.volumes?.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const dir = await claimDirectory(namespace, claim);
    mounts.push([mount.mountPath.replace(/\/+$/, ''), mount.subPath ? `${dir}/${mount.subPath}` : dir]);
  }
  const toLocal = (value: string) =>
    mounts.reduce((v, [path, dir]) => (v === path || v.startsWith(`${path}/`) ? dir + v.slice(path.length) : v), value);
  const toPod = (text: string) => mounts.reduce((t, [path, dir]) => t.split(dir).join(path), text);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    OMP_NUM_THREADS: '1',
    PYTHONPATH: `${repoRoot}/training-image`,
  };
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = toLocal(e.value);
  const termination = join(logs, `${name}.termination`);
  env.MODELOPS_TERMINATION_MESSAGE_PATH = termination;
  const log = join(logs, `${name}.log`);
  const startedAt = new Date();
  const exitCode = await new Promise<number>((resolve) => {
    const out = createWriteStream(log);
    const child = spawn('/usr/bin/python3', ['-m', 'modelops_train'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', (err) => {
      out.end(`${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code) => {
      out.end();
      resolve(code ?? 1);
    });
  });
  const written = await readFile(termination, 'utf8').catch(() => '');
  const message = toPod(written.trim() || (await readFile(log, 'utf8').catch(() => '')).slice(-2048));
  // What the kubelet reports when the container exits: kwok's stages end the pod from these.
  const ended = await kubectl([
    'annotate',
    'pod',
    name,
    '-n',
    namespace,
    '--overwrite',
    `sim.modelops.dev/message=${message}`,
    `sim.modelops.dev/outcome=${exitCode === 0 ? 'succeed' : 'fail'}`,
    `sim.modelops.dev/exit-code=${exitCode}`,
    'sim.modelops.dev/run-for=1ms',
  ]);
  if (ended.code !== 0) throw new Error(`could not end pod ${namespace}/${name}: ${ended.stderr}`);
  return { pod: name, exitCode, message, log, startedAt, finishedAt: new Date() };
}
