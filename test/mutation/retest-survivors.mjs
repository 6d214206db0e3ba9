// Makes the next incremental run test every surviving (or uncovered) mutant of a scope again, by dropping them from
// its incremental.json. Stryker reuses a survivor's result while none of the tests that cover it changed; a static
// mutant (code run at module load) is covered by no test in particular, so new tests never make it re-test one.
// Usage: node test/mutation/retest-survivors.mjs .cache/mutation/<scope>/incremental.json
import { readFileSync, writeFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node test/mutation/retest-survivors.mjs .cache/mutation/<scope>/incremental.json');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
let dropped = 0;
for (const result of Object.values(report.files)) {
  const before = result.mutants.length;
  result.mutants = result.mutants.filter((m) => m.status !== 'Survived' && m.status !== 'NoCoverage');
  dropped += before - result.mutants.length;
}
writeFileSync(file, JSON.stringify(report));
console.log(`${file}: ${dropped} surviving or uncovered mutants will be tested again`);
