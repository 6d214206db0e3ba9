// Reaction latency: N TrainingJobs (or ModelVersions) created at once, `concurrency` creates in flight; for
// each, the time from the create call to its child (the Job; the Deployment) appearing on the bench's
// watch. Interleaved with them, the bench creates N more of the same parents in a namespace of their own,
// whose children the reference controller makes (reference-controller.ts: the least any controller can do),
// and N plain children itself (the Job the operator would make, without owner): the floor — what the API
// server allows in the same run, under the same load. "Reaction" is a controller's own part: from the API
// server's answer to the parent's create to the child. Prints Markdown tables, the operator's API calls (from
// the kube-apiserver's audit log) and its process figures; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)"
//   node --import tsx bench/operator/latency.ts --n=300 [--kind=trainingjob|modelversion] [--concurrency=16]
//     [--operator-args='--workers=8'] [--label=before]
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Informer, listerWatcher } from '../../operator/src/runtime/informer.js';
import type { RestClient } from '../../operator/src/runtime/client.js';
import type { KubernetesObject, ResourceRef } from '../../operator/src/runtime/index.js';
import {
  adminClient,
  argValue,
  auditMark,
  auditSince,
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
  type AuditEntry,
  type Metrics,
} from './bed.js';
import { KINDS } from './kinds.js';
import { startReferenceController } from './reference.js';

const N = Number(argValue('n', '300'));
const KIND = argValue('kind', 'trainingjob');
const CONCURRENCY = Number(argValue('concurrency', '16'));
const OPERATOR_ARGS = argValue('operator-args', '').split(' ').filter(Boolean);
const LABEL = argValue('label', '');

const ms = (v: number) => v.toFixed(0);

/** Who makes a created object's child: the operator, the reference controller, or nobody (the object is the floor's child). */
type Stream = 'operator' | 'reference' | 'floor';

interface Created {
  stream: Stream;
  ref: ResourceRef;
  obj: KubernetesObject;
}

interface Seen {
  byName: Map<string, number>;
  byOwner: Map<string, number>;
}

/** Every child that appears in `namespace`, by namespace/name and by its controller owner's uid: when the bench saw it. */
function watchChildren(client: RestClient, child: ResourceRef, namespace: string, seen: Seen): Informer {
  // The runtime's informer, not a bare watch: a watch the server ends is watched again (one that was not saw 188
  // of 600 Deployments).
  const children = new Informer(
    child,
    listerWatcher(client, child, { namespace, watchTimeoutSeconds: 300, idleTimeoutMs: 330_000 }),
    { logger: pino({ level: 'warn' }) },
  );
  children.addHandlers({
    onAdd: (object) => {
      const now = performance.now();
      seen.byName.set(`${namespace}/${object.metadata!.name!}`, now);
      const owner = object.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
      if (owner) seen.byOwner.set(owner, now);
    },
  });
  children.start();
  return children;
}

async function main(): Promise<void> {
  const kind = KINDS[KIND];
  if (!kind) throw new Error(`--kind must be one of ${Object.keys(KINDS).join(', ')}`);
  const { operatorKubeconfig, auditLog } = prepareBed();
  const client = adminClient();
  const namespace = `bench-lat-${randomBytes(3).toString('hex')}`;
  // The reference controller's parents live apart: the operator watches only `namespace`.
  const referenceNamespace = `${namespace}-ref`;
  await createNamespace(client, namespace);
  await createNamespace(client, referenceNamespace);
  const op = await startOperator(operatorKubeconfig, {
    args: [`--namespaces=${namespace}`, ...OPERATOR_ARGS],
    name: `latency-${namespace}`,
  });
  const reference = await startReferenceController(KIND, referenceNamespace, operatorKubeconfig);
  try {
    const idleBefore = (await settle(op, { quietMs: 2000 })) !== undefined;
    const idleRss = op.figures().rssMb;

    const seen: Seen = { byName: new Map(), byOwner: new Map() };
    const watches = [namespace, referenceNamespace].map((ns) => watchChildren(client, kind.child, ns, seen));
    await Promise.all(watches.map((w) => w.whenSynced()));

    const objects: Created[] = Array.from({ length: N }, (_, i): Created[] => [
      { stream: 'operator', ref: kind.parent, obj: kind.make(namespace, i) },
      { stream: 'reference', ref: kind.parent, obj: kind.make(referenceNamespace, i) },
      { stream: 'floor', ref: kind.child, obj: kind.plain(namespace, i) },
    ]).flat();
    const sentAt: number[] = [];
    const answeredAt: number[] = [];
    const mark = auditMark(auditLog);
    const before = {
      proc: op.figures(),
      reference: reference.figures(),
      machine: machineCpu(),
      load: loadAverage(),
      metrics: await op.metrics(),
    };
    const started = performance.now();
    await createAll(
      client,
      objects,
      CONCURRENCY,
      (i) => (sentAt[i] = performance.now()),
      (i) => (answeredAt[i] = performance.now()),
    );
    // The parents' uids, to tell each controller-made child by its owner (a list per namespace, not N gets).
    const uidByKey = new Map<string, string>();
    for (const ns of [namespace, referenceNamespace])
      for (const p of (await client.list(kind.parent, { namespace: ns })).items)
        uidByKey.set(`${ns}/${p.metadata!.name!}`, p.metadata!.uid!);
    const keyOf = ({ obj }: Created) => `${obj.metadata!.namespace!}/${obj.metadata!.name!}`;
    const childSeen = (c: Created) =>
      c.stream === 'floor' ? seen.byName.get(keyOf(c)) : seen.byOwner.get(uidByKey.get(keyOf(c)) ?? '');

    const deadline = performance.now() + 15 * 60_000;
    let lastCount = -1;
    let lastProgress = performance.now();
    for (;;) {
      const missing = objects.filter((c) => childSeen(c) === undefined);
      if (!missing.length) break;
      const count = objects.length - missing.length;
      if (count !== lastCount) [lastCount, lastProgress] = [count, performance.now()];
      if (performance.now() > deadline || performance.now() - lastProgress > 120_000)
        throw new Error(
          `${missing.length} of ${objects.length} children never appeared (${[...new Set(missing.map((c) => c.stream))].join(', ')})`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const allSeen = performance.now();
    const allSeenWallMs = Date.now();
    const peakDuringBurst = op.figures().peakRssMb;
    const metricsAtSeen = await op.metrics();
    const referenceAtSeen = reference.figures();
    // Then the rest of the runs' lives (pods start and finish, statuses follow) until the operator is idle.
    const idleAt = await settle(op, { quietMs: 5000 });
    const after = { proc: op.figures(), machine: machineCpu(), load: loadAverage() };
    await Promise.all(watches.map((w) => w.stop()));

    const latency = (stream: Stream, from: number[]) =>
      objects.flatMap((c, i) => (c.stream === stream ? [childSeen(c)! - from[i]!] : []));
    const floorP99 = percentile(latency('floor', sentAt), 99);
    const row = (stream: Stream, name: string) => {
      const fromCall = latency(stream, sentAt);
      // A controller's own part: from the API server's answer to the parent's create (it exists) to the child.
      const reaction = stream === 'floor' ? [] : latency(stream, answeredAt);
      const figures = (samples: number[]) => [
        ms(percentile(samples, 50)),
        ms(percentile(samples, 99)),
        (percentile(samples, 99) / floorP99).toFixed(1),
      ];
      return [
        name,
        ...figures(fromCall),
        ms(Math.max(...fromCall)),
        ...(reaction.length ? figures(reaction) : ['', '', '']),
      ];
    };
    const inReference = (e: AuditEntry) => e.objectRef?.namespace === referenceNamespace;
    const audit = auditSince(auditLog, mark).filter((e) => !isLeaseRequest(e));
    const operatorAudit = audit.filter((e) => !inReference(e));
    const writes = operatorAudit.filter(isWrite).length;

    console.log(
      `\n${KIND} reaction latency, N=${N}, ${CONCURRENCY} creates in flight${LABEL ? ` (${LABEL})` : ''}; operator args: ${OPERATOR_ARGS.join(' ') || '(defaults)'}`,
    );
    console.log(
      table(
        [
          'child made by',
          'p50 ms',
          'p99',
          'p99 ÷ floor p99',
          'max',
          'reaction p50 ms',
          'p99',
          'reaction p99 ÷ floor p99',
        ],
        [
          row('operator', 'the operator'),
          row('reference', 'the reference controller'),
          row('floor', 'nobody: the bench (floor)'),
        ],
      ),
    );
    const p99 = (stream: Stream, from: number[]) => percentile(latency(stream, from), 99);
    console.log(
      `the operator's p99 ÷ the reference controller's: ${(p99('operator', sentAt) / p99('reference', sentAt)).toFixed(2)} from the create call, ${(p99('operator', answeredAt) / p99('reference', answeredAt)).toFixed(2)} from the parent's existence`,
    );
    console.log(
      table(
        [
          'N',
          'all children',
          'RSS idle → peak MB',
          'operator CPU s',
          'reference CPU s',
          'API calls per parent (writes)',
          'load avg before → after',
        ],
        [
          [
            N,
            `${((allSeen - started) / 1000).toFixed(1)} s`,
            `${idleRss.toFixed(0)} → ${Math.max(peakDuringBurst, after.proc.peakRssMb).toFixed(0)}`,
            (after.proc.cpuSeconds - before.proc.cpuSeconds).toFixed(1),
            (referenceAtSeen.cpuSeconds - before.reference.cpuSeconds).toFixed(1),
            `${(operatorAudit.length / N).toFixed(1)} (${(writes / N).toFixed(1)})`,
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
    const handled = (entries: AuditEntry[]) =>
      [...serverTimes(entries)].map(([k, t]) => `${k} ${t.count} × ${t.meanMs.toFixed(0)} ms`).join(', ');
    console.log(
      `the API server's time until all children existed, for the operator's writes: ${handled(duringBurst.filter((e) => !inReference(e)))}`,
    );
    console.log(`  and for the reference controller's: ${handled(duringBurst.filter(inReference))}`);
    console.log(`the operator's requests (audit log, Lease excluded), ${N} ${KIND}s:`);
    for (const [what, count] of countRequests(operatorAudit)) console.log(`  ${what.padEnd(36)} ${count}`);
  } finally {
    await reference.stop();
    // While the operator runs: it removes the finalizers (ModelVersions carry modelops.dev/traffic), else
    // the namespace stays Terminating.
    await Promise.all([namespace, referenceNamespace].map((ns) => deleteNamespace(client, ns, 300_000, [kind.parent])));
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
