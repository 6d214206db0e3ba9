// Reaction latency: N TrainingJobs (or ModelVersions) created at once, `concurrency` creates in flight; for
// each, the time from the create call to its child (the Job; the Deployment) appearing on the bench's
// watch. Interleaved with them, the bench creates the same number of plain children itself (the Job the
// operator would make, without owner): the floor — what the API server allows in the same run, under the
// same load. "Reaction" is the operator's own part: from the API server's answer to the parent's create to
// the child. Prints a Markdown table row, the operator's API calls (from the kube-apiserver's audit log)
// and its process figures; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)"
//   node --import tsx bench/operator/latency.ts --n=300 [--kind=trainingjob|modelversion] [--concurrency=16]
//     [--operator-args='--workers=8'] [--label=before]
import { randomBytes } from 'node:crypto';
import { resources } from '../../operator/src/api/index.js';
import { buildJob, LABEL_TRAININGJOB } from '../../operator/src/controllers/trainingjob/job.js';
import { JOB } from '../../operator/src/controllers/resources.js';
import pino from 'pino';
import { Informer, listerWatcher } from '../../operator/src/runtime/informer.js';
import type { KubernetesObject, ResourceRef } from '../../operator/src/runtime/index.js';
import { servingDeployment } from '../../test/harness/serving.js';
import type { TrainingJob } from '../../operator/src/api/index.js';
import {
  adminClient,
  argValue,
  auditMark,
  auditSince,
  benchTrainingJob,
  busyShare,
  countRequests,
  createAll,
  createNamespace,
  deleteNamespace,
  isLeaseRequest,
  isWrite,
  loadAverage,
  machineCpu,
  percentile,
  prepareBed,
  reconciles,
  serverTimes,
  settle,
  startOperator,
  table,
  type Metrics,
} from './bed.js';

const N = Number(argValue('n', '300'));
const KIND = argValue('kind', 'trainingjob');
const CONCURRENCY = Number(argValue('concurrency', '16'));
const OPERATOR_ARGS = argValue('operator-args', '').split(' ').filter(Boolean);
const LABEL = argValue('label', '');
const DEPLOYMENT: ResourceRef = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};

interface Kind {
  parent: ResourceRef;
  child: ResourceRef;
  make(namespace: string, i: number): KubernetesObject;
  /** The child the bench creates itself for the floor: the same object, owned by nobody. */
  plain(namespace: string, i: number): KubernetesObject;
}

const trainingJob = (namespace: string, name: string) => benchTrainingJob(namespace, name) as TrainingJob;

const KINDS: Record<string, Kind> = {
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
  },
};

const ms = (v: number) => v.toFixed(0);

async function main(): Promise<void> {
  const kind = KINDS[KIND];
  if (!kind) throw new Error(`--kind must be one of ${Object.keys(KINDS).join(', ')}`);
  const { operatorKubeconfig, auditLog } = prepareBed();
  const client = adminClient();
  const namespace = `bench-lat-${randomBytes(3).toString('hex')}`;
  await createNamespace(client, namespace);
  const op = await startOperator(operatorKubeconfig, { args: OPERATOR_ARGS, name: `latency-${namespace}` });
  try {
    const idleBefore = (await settle(op, { quietMs: 2000 })) !== undefined;
    const idleRss = op.figures().rssMb;

    // Every child that appears, by name and by its controller owner's uid. The runtime's informer, not a bare
    // watch: a watch the server ends is watched again (one that was not saw 188 of 600 Deployments).
    const seenByName = new Map<string, number>();
    const seenByOwner = new Map<string, number>();
    const children = new Informer(
      kind.child,
      listerWatcher(client, kind.child, { namespace, watchTimeoutSeconds: 300, idleTimeoutMs: 330_000 }),
      { logger: pino({ level: 'warn' }) },
    );
    children.addHandlers({
      onAdd: (object) => {
        const now = performance.now();
        seenByName.set(object.metadata!.name!, now);
        const owner = object.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
        if (owner) seenByOwner.set(owner, now);
      },
    });
    children.start();
    await children.whenSynced();

    const objects = Array.from({ length: N }, (_, i) => [
      { ref: kind.parent, obj: kind.make(namespace, i) },
      { ref: kind.child, obj: kind.plain(namespace, i) },
    ]).flat();
    const sentAt: number[] = [];
    const answeredAt: number[] = [];
    const uids: (string | undefined)[] = [];
    const mark = auditMark(auditLog);
    const before = { proc: op.figures(), machine: machineCpu(), load: loadAverage(), metrics: await op.metrics() };
    const started = performance.now();
    await createAll(
      client,
      objects,
      CONCURRENCY,
      (i) => (sentAt[i] = performance.now()),
      (i) => (answeredAt[i] = performance.now()),
    );
    // The parents' uids, to tell each operator-made child by its owner (list: one call, not N).
    const parents = await client.list(kind.parent, { namespace });
    const uidByName = new Map(parents.items.map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    objects.forEach(({ obj }, i) => (uids[i] = i % 2 === 0 ? uidByName.get(obj.metadata!.name!) : undefined));

    const childSeen = (i: number) =>
      i % 2 === 0 ? seenByOwner.get(uids[i]!) : seenByName.get(objects[i]!.obj.metadata!.name!);
    const deadline = performance.now() + 15 * 60_000;
    let lastCount = -1;
    let lastProgress = performance.now();
    for (;;) {
      const count = objects.filter((_, i) => childSeen(i) !== undefined).length;
      if (count === objects.length) break;
      if (count !== lastCount) [lastCount, lastProgress] = [count, performance.now()];
      if (performance.now() > deadline || performance.now() - lastProgress > 120_000)
        throw new Error(
          `${objects.length - count} of ${objects.length} children never appeared (is the ${KIND} controller making them?)`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const allSeen = performance.now();
    const allSeenWallMs = Date.now();
    const peakDuringBurst = op.figures().peakRssMb;
    const metricsAtSeen = await op.metrics();
    // Then the rest of the runs' lives (pods start and finish, statuses follow) until the operator is idle.
    const idleAt = await settle(op, { quietMs: 5000 });
    const after = { proc: op.figures(), machine: machineCpu(), load: loadAverage() };
    await children.stop();

    const latency = (parity: number, from: number[]) =>
      objects
        .map((_, i) => i)
        .filter((i) => i % 2 === parity)
        .map((i) => childSeen(i)! - from[i]!);
    const operator = latency(0, sentAt);
    const floor = latency(1, sentAt);
    // The operator's own part: from the API server's answer to the parent's create (it exists) to the child.
    const reaction = latency(0, answeredAt);
    const audit = auditSince(auditLog, mark).filter((e) => !isLeaseRequest(e));
    const writes = audit.filter(isWrite).length;

    console.log(
      `\n${KIND} reaction latency, N=${N}, ${CONCURRENCY} creates in flight${LABEL ? ` (${LABEL})` : ''}; operator args: ${OPERATOR_ARGS.join(' ') || '(defaults)'}`,
    );
    console.log(
      table(
        [
          'N',
          'child p50 ms',
          'p99',
          'max',
          'floor p50 ms',
          'p99',
          'p99 ÷ floor p99',
          'reaction p50 ms',
          'p99',
          'reaction p99 ÷ floor p99',
          'all children',
          'RSS idle → peak MB',
          'operator CPU s',
          'API calls per parent (writes)',
          'load avg before → after',
        ],
        [
          [
            N,
            ms(percentile(operator, 50)),
            ms(percentile(operator, 99)),
            ms(Math.max(...operator)),
            ms(percentile(floor, 50)),
            ms(percentile(floor, 99)),
            (percentile(operator, 99) / percentile(floor, 99)).toFixed(1),
            ms(percentile(reaction, 50)),
            ms(percentile(reaction, 99)),
            (percentile(reaction, 99) / percentile(floor, 99)).toFixed(1),
            `${((allSeen - started) / 1000).toFixed(1)} s`,
            `${idleRss.toFixed(0)} → ${Math.max(peakDuringBurst, after.proc.peakRssMb).toFixed(0)}`,
            (after.proc.cpuSeconds - before.proc.cpuSeconds).toFixed(1),
            `${(audit.length / N).toFixed(1)} (${(writes / N).toFixed(1)})`,
            `${before.load} → ${after.load}`,
          ],
        ],
      ),
    );
    console.log(
      `machine CPU busy ${(busyShare(before.machine, after.machine) * 100).toFixed(0)}% over the run; ${idleAt === undefined ? 'not idle again' : `idle again ${((idleAt - started) / 1000).toFixed(1)} s`} after the first create${idleBefore ? '' : '; the operator was not idle when the creates began'} (${reconciles(before.metrics)} reconciles before them)`,
    );
    console.log(`queue until all children existed: ${queueFigures(before.metrics, metricsAtSeen)}`);
    console.log(`the operator's event-loop delay until then: ${eventLoopFigures(metricsAtSeen)}`);
    console.log(`its writes' mean durations as it saw them: ${requestFigures(before.metrics, metricsAtSeen)}`);
    const duringBurst = audit.filter((e) => Date.parse(e.requestReceivedTimestamp) <= allSeenWallMs);
    const handled = [...serverTimes(duringBurst)].map(([k, t]) => `${k} ${t.count} × ${t.meanMs.toFixed(0)} ms`);
    console.log(`the API server's time for the operator's writes until all children existed: ${handled.join(', ')}`);
    console.log(`the operator's requests (audit log, Lease excluded), ${N} ${KIND}s:`);
    for (const [what, count] of countRequests(audit)) console.log(`  ${what.padEnd(36)} ${count}`);
  } finally {
    // While the operator runs: it removes the finalizers (ModelVersions carry modelops.dev/traffic), else
    // the namespace stays Terminating.
    await deleteNamespace(client, namespace, 300_000, [kind.parent]);
    await op.stop();
  }
}

/** How much a counter (or a histogram's sum or count) grew from `a` to `b`. */
const grown = (a: Metrics, b: Metrics, name: string) => (b.get(name) ?? 0) - (a.get(name) ?? 0);

/** Reconciles, and the mean time a key waited in the queue and a reconcile took, from the operator's histograms. */
function queueFigures(a: Metrics, b: Metrics): string {
  const controller = KIND;
  const mean = (h: string) => {
    const count = grown(a, b, `${h}_count{name="${controller}"}`);
    return count ? `${((grown(a, b, `${h}_sum{name="${controller}"}`) / count) * 1000).toFixed(1)} ms` : 'n/a';
  };
  const reconciles = [...b.keys()]
    .filter((k) => k.startsWith(`controller_runtime_reconcile_total{controller="${controller}"`))
    .reduce((s, k) => s + grown(a, b, k), 0);
  return `${reconciles} reconciles; mean wait in queue ${mean('workqueue_queue_duration_seconds')}, mean work ${mean('workqueue_work_duration_seconds')}`;
}

/** prom-client resets its event-loop delay histogram at every scrape: `b`'s figures are the burst's alone. */
function eventLoopFigures(b: Metrics): string {
  const lagMs = (m: string) => ((b.get(`nodejs_eventloop_lag_${m}_seconds`) ?? NaN) * 1000).toFixed(0);
  return `p50 ${lagMs('p50')} ms, p99 ${lagMs('p99')} ms, max ${lagMs('max')} ms`;
}

/** The writes' mean durations as the operator saw them, beside the audit log's server-side figures. */
function requestFigures(a: Metrics, b: Metrics): string {
  return ['PATCH', 'PUT', 'POST']
    .map((method) => {
      const series = (part: string) => `rest_client_request_duration_seconds_${part}{method="${method}"}`;
      const count = grown(a, b, series('count'));
      return count ? `${method} ${count} × ${((grown(a, b, series('sum')) / count) * 1000).toFixed(0)} ms` : undefined;
    })
    .filter(Boolean)
    .join(', ');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
