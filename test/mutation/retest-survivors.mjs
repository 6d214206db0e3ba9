// Makes the next incremental run test every surviving (or uncovered) mutant of a scope again, by dropping them from
// its incremental.json. Stryker reuses a survivor's result while none of the tests that cover it changed; a static
// mutant (code run at module load) is covered by no test in particular, so new tests never make it re-test one.
// With --timeouts, the mutants that timed out are tested again too: a run that shared the CPU with other work can
// time out mutants that the tests would kill, or that survive.
// Usage: node test/mutation/retest-survivors.mjs .cache/mutation/<scope>/incremental.json [--timeouts]
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node test/mutation/retest-survivors.mjs .cache/mutation/<scope>/incremental.json [--timeouts]');
  process.exit(2);
}
const retested = new Set(['Survived', 'NoCoverage', ...(args.includes('--timeouts') ? ['Timeout'] : [])]);
const report = JSON.parse(readFileSync(file, 'utf8'));
let dropped = 0;
for (const result of Object.values(report.files)) {
  const before = result.mutants.length;
  result.mutants = result.mutants.filter((m) => !retested.has(m.status));
  dropped += before - result.mutants.length;
}
writeFileSync(file, JSON.stringify(report));
console.log(`${file}: ${dropped} mutants (${[...retested].join(', ')}) will be tested again`);
