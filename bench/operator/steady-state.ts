// Steady state with 5000 objects of the three kinds (population.ts): the operator started against the
// settled population, once idle, is watched for `--minutes` (default 5): its RSS and JS heap, its CPU
// time, and every request it sends, as the kube-apiserver's audit log records them (writes per minute,
// the leader-election Lease's renewals apart). Prints Markdown tables; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)"
//   node --import tsx bench/operator/steady-state.ts [--minutes=5] [--operator-args='--workers=8'] [--label=before]
import {
  adminClient,
  argValue,
  auditMark,
  auditSince,
  busyShare,
  countRequests,
  isLeaseRequest,
  isWrite,
  loadAverage,
  machineCpu,
  prepareBed,
  reconciles,
  settle,
  startOperator,
  table,
} from './bed.js';
import { ensureSettledPopulation } from './population.js';

const MINUTES = Number(argValue('minutes', '5'));
const OPERATOR_ARGS = argValue('operator-args', '').split(' ').filter(Boolean);
const LABEL = argValue('label', '');
const mb = (bytes: number | undefined) => ((bytes ?? 0) / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
  const { operatorKubeconfig, auditLog } = prepareBed();
  const client = adminClient();
  const objects = await ensureSettledPopulation(client, operatorKubeconfig);
  const op = await startOperator(operatorKubeconfig, { args: OPERATOR_ARGS, name: 'steady-state' });
  try {
    const idle = (await settle(op, { quietMs: 10_000, minReconciles: objects })) !== undefined;
    const mark = auditMark(auditLog);
    const before = { proc: op.figures(), machine: machineCpu(), load: loadAverage(), metrics: await op.metrics() };
    let maxRss = before.proc.rssMb;
    const end = performance.now() + MINUTES * 60_000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(10_000, end - performance.now())));
      maxRss = Math.max(maxRss, op.figures().rssMb);
    }
    const after = { proc: op.figures(), machine: machineCpu(), load: loadAverage(), metrics: await op.metrics() };
    const audit = auditSince(auditLog, mark);
    const writes = audit.filter((e) => isWrite(e) && !isLeaseRequest(e));
    const leaseWrites = audit.filter((e) => isWrite(e) && isLeaseRequest(e));
    const cpu = after.proc.cpuSeconds - before.proc.cpuSeconds;

    console.log(
      `\nsteady state, ${objects} objects, ${MINUTES} idle minutes${LABEL ? ` (${LABEL})` : ''}; operator args: ${OPERATOR_ARGS.join(' ') || '(defaults)'}`,
    );
    console.log(
      table(
        [
          'objects',
          'RSS MB (max over the window)',
          'JS heap used MB',
          'peak RSS since start MB',
          'CPU s (% of a core)',
          'writes/min',
          'Lease renewals/min',
          'requests/min (all)',
          'reconciles/min',
          'load avg before → after',
        ],
        [
          [
            objects,
            `${after.proc.rssMb.toFixed(0)} (${maxRss.toFixed(0)})`,
            mb(after.metrics.get('nodejs_heap_size_used_bytes')),
            after.proc.peakRssMb.toFixed(0),
            `${cpu.toFixed(2)} (${((cpu / (MINUTES * 60)) * 100).toFixed(2)}%)`,
            (writes.length / MINUTES).toFixed(1),
            (leaseWrites.length / MINUTES).toFixed(1),
            (audit.length / MINUTES).toFixed(1),
            ((reconciles(after.metrics) - reconciles(before.metrics)) / MINUTES).toFixed(0),
            `${before.load} → ${after.load}`,
          ],
        ],
      ),
    );
    if (!idle) console.log(`the operator had not gone idle within --settle-s; measured anyway`);
    console.log(`machine CPU busy ${(busyShare(before.machine, after.machine) * 100).toFixed(0)}% over the window`);
    console.log("the operator's requests in the window (audit log):");
    for (const [what, count] of countRequests(audit)) console.log(`  ${what.padEnd(36)} ${count}`);
  } finally {
    await op.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
