// Prints the run's totals as one line, "N passed, N failed", from the JSON reports that
// test/run-all.sh leaves in .cache/reports (jest's --json files and one file per static check).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.cache/reports';
let passed = 0;
let failed = 0;
for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  if (report.testResults) {
    for (const suite of report.testResults) {
      for (const test of suite.assertionResults) {
        if (test.status === 'passed') passed++;
        else if (test.status === 'failed') failed++;
      }
      // A suite that failed to load has no assertions but must still count as a failure.
      if (suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed')) failed++;
    }
    if (report.numRuntimeErrorTestSuites > 0 && report.testResults.length === 0)
      failed += report.numRuntimeErrorTestSuites;
  } else {
    passed += report.passed ?? 0;
    failed += report.failed ?? 0;
  }
}
console.log(`${passed} passed, ${failed} failed`);
