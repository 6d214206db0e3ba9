// Mutation testing (issue #14): StrykerJS over the pure logic, run by `make mutation [FOLDER=<folder>]`.
// Reports: .cache/mutation/<scope>/report.html and report.json; `node test/mutation/scores.mjs` prints the score
// per folder. Incremental: a rerun tests only the mutants whose code or covering tests changed.
//
// Equivalent mutants (no test can kill them: the program behaves the same) are listed in EQUIVALENT_MUTANTS below,
// each with why; nothing else is excluded from the score.

const FOLDERS = [
  'serving-image/src',
  'operator/src/controllers',
  'operator/src/runtime',
  'operator/src/api',
  'operator/src/statistics',
  'operator/src/prometheus',
];

/**
 * Each entry excludes one mutator's mutants of the code starting on one line (its exact text, trimmed) of one file
 * (test/mutation/equivalent-mutants.mjs; an entry that no longer matches exactly one line fails the run).
 */
const EQUIVALENT_MUTANTS = [];

const folder = process.env.MUTATION_FOLDER?.replace(/\/+$/, '');
if (folder && !FOLDERS.some((f) => folder === f || folder.startsWith(`${f}/`)))
  throw new Error(`MUTATION_FOLDER=${folder} is not under one of: ${FOLDERS.join(', ')}`);
const folders = folder ? [folder] : FOLDERS;
// Each scope keeps its own incremental file and reports, so a one-folder run does not discard the full run's.
const scope = folder ? folder.replaceAll('/', '-') : 'all';
const out = `.cache/mutation/${scope}`;

export default {
  testRunner: 'jest',
  // Jest runs the tests as ES modules.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: { projectType: 'custom', configFile: 'test/mutation/jest.config.js', enableFindRelatedTests: true },
  checkers: ['typescript'],
  plugins: [
    '@stryker-mutator/jest-runner',
    '@stryker-mutator/typescript-checker',
    './test/mutation/equivalent-mutants.mjs',
  ],
  ignorers: ['equivalent-mutants'],
  equivalentMutants: EQUIVALENT_MUTANTS,
  tsconfigFile: 'test/mutation/tsconfig.json',
  coverageAnalysis: 'perTest',
  mutate: [
    ...folders.map((f) => `${f}/**/*.ts`),
    '!**/*.test.ts',
    // Test support code, not product code: its mistakes show up as failing tests, not as surviving mutants.
    '!**/*.test-helpers.ts',
    '!operator/src/runtime/testing/**',
  ],
  // Copied into the sandbox: everything the unit tests read, none of the test bed's state or build output.
  ignorePatterns: ['/.cache', '/dist', '/coverage', '**/.venv', '**/__pycache__'],
  tempDirName: '.cache/mutation/tmp',
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  reporters: ['progress', 'html', 'json'],
  htmlReporter: { fileName: `${out}/report.html` },
  jsonReporter: { fileName: `${out}/report.json` },
  thresholds: { high: 85, low: 75, break: null },
  // Two cores, shared: one test process per core.
  concurrency: 2,
  // A mutant that makes a test hang is stopped after 1.5 times the dry run's time for its tests plus 5 s.
  timeoutFactor: 1.5,
  cleanTempDir: 'always',
};
