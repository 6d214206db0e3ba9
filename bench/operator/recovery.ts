// Recovery: the operator (re)started with the 5000 settled objects of population.ts present, every one
// already in its desired state. For each of `--restarts` starts: time to synced caches, time until every
// object was reconciled and the operator idle, the writes it sent meanwhile (the kube-apiserver's audit
// log; the leader-election Lease apart) — there should be none — and its peak RSS. Prints a Markdown
// table; not a test.
//   make testbed-up && eval "$(bash test/bed/testbed.sh env)"
//   node --import tsx bench/operator/recovery.ts [--restarts=3] [--operator-args='--workers=8'] [--label=before]
import {
  adminClient,
  argValue,
  auditMark,
  auditSince,
  countRequests,
  isLeaseRequest,
  isWrite,
  loadAverage,
  prepareBed,
  startOperator,
  table,
  waitForIdle,
} from './bed.js';
import { ensureSettledPopulation } from './population.js';

const RESTARTS = Number(argValue('restarts', '3'));
const OPERATOR_ARGS = argValue('operator-args', '').split(' ').filter(Boolean);
const LABEL = argValue('label', '');
const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function main(): Promise<void> {
  const { operatorKubeconfig, auditLog } = prepareBed();
  const client = adminClient();
  const objects = await ensureSettledPopulation(client, operatorKubeconfig);
  const rows: (string | number)[][] = [];
  const requests: string[] = [];
  for (let round = 1; round <= RESTARTS; round++) {
    const load = loadAverage();
    const mark = auditMark(auditLog);
    const spawned = performance.now();
    const op = await startOperator(operatorKubeconfig, { args: OPERATOR_ARGS, name: `recovery-${round}` });
    try {
      const idleAt = await waitForIdle(op, { quietMs: 5000, minReconciles: objects });
      const audit = auditSince(auditLog, mark);
      const writes = audit.filter((e) => isWrite(e) && !isLeaseRequest(e));
      const figures = op.figures();
      rows.push([
        round,
        objects,
        seconds(op.firstSeen('caches synced')! - spawned),
        seconds(idleAt - spawned),
        writes.length,
        audit.filter((e) => !isLeaseRequest(e) && !isWrite(e)).length,
        figures.peakRssMb.toFixed(0),
        figures.cpuSeconds.toFixed(1),
        load,
      ]);
      if (round === 1) for (const [what, count] of countRequests(audit)) requests.push(`  ${what.padEnd(36)} ${count}`);
    } finally {
      await op.stop();
    }
  }
  console.log(
    `\nrecovery with ${objects} settled objects${LABEL ? ` (${LABEL})` : ''}; operator args: ${OPERATOR_ARGS.join(' ') || '(defaults)'}`,
  );
  console.log(
    table(
      [
        'start',
        'objects',
        'caches synced s',
        'resynced and idle s',
        'writes',
        'reads',
        'peak RSS MB',
        'CPU s',
        'load avg at start',
      ],
      rows,
    ),
  );
  console.log("the first start's requests until idle (audit log):");
  for (const line of requests) console.log(line);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
