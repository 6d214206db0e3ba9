// Prints the mutation score per folder from Stryker's JSON reports (`make mutation` writes them).
// With no argument it reads every .cache/mutation/*/report.json, taking each file's result from the newest report
// that has it, so one-folder runs and the full run combine; files deleted since are left out. A folder below its
// target is marked.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Most specific first: a file counts towards the first folder that contains it. Targets are from issue #14.
const FOLDERS = [
  { folder: 'serving-image/src/model', target: 85 },
  { folder: 'serving-image/src', target: 75 },
  { folder: 'operator/src/controllers', target: 85 },
  { folder: 'operator/src/runtime', target: 75 },
  { folder: 'operator/src/api', target: 75 },
  { folder: 'operator/src/statistics', target: 75 },
  { folder: 'operator/src/prometheus', target: 75 },
];
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function reportPaths() {
  if (process.argv.length > 2) return process.argv.slice(2);
  const root = '.cache/mutation';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((scope) => join(root, scope, 'report.json'))
    .filter((path) => existsSync(path))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

const files = new Map();
for (const path of reportPaths()) {
  for (const [file, result] of Object.entries(JSON.parse(readFileSync(path, 'utf8')).files)) files.set(file, result);
}
if (files.size === 0) {
  console.error('No mutation report yet: run `make mutation`.');
  process.exit(1);
}

const rows = FOLDERS.map(({ folder, target }) => ({ folder, target, detected: 0, undetected: 0, survived: 0 }));
for (const [file, { mutants }] of files) {
  // A file deleted since its report was written no longer counts.
  if (!existsSync(file)) continue;
  const row = rows.find(({ folder }) => file.startsWith(`${folder}/`));
  if (!row) continue;
  for (const { status } of mutants) {
    if (DETECTED.has(status)) row.detected++;
    else if (UNDETECTED.has(status)) row.undetected++;
    if (status === 'Survived') row.survived++;
  }
}

console.log(`${'folder'.padEnd(26)} ${'score'.padStart(7)} ${'target'.padStart(6)}  killed  undetected (survived)`);
for (const { folder, target, detected, undetected, survived } of rows) {
  const valid = detected + undetected;
  if (valid === 0) continue;
  const score = (100 * detected) / valid;
  const mark = score >= target ? '' : '  below target';

  console.log(
    `${folder.padEnd(26)} ${score.toFixed(1).padStart(6)}% ${`${target}%`.padStart(6)}  ${String(detected).padStart(6)}  ${String(undetected).padStart(10)} (${survived})${mark}`,
  );
}
