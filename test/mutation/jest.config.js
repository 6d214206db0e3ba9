// The unit project alone, as one flat Jest config: Stryker's jest runner takes a single project, and mutation
// testing runs the unit tests only (the integration tests need the test bed and are minutes per run).
import jestConfig from '../../jest.config.js';

const { displayName: _displayName, ...unit } = jestConfig.projects.find((project) => project.displayName === 'unit');

// MUTATION_TESTS=<folder> runs only that folder's tests: for operator/src/api, whose schemas are module-level code
// that Stryker cannot attribute to single tests, so each of its mutants would re-run every test importing the API.
const only = process.env.MUTATION_TESTS;

export default {
  ...unit,
  ...(only ? { testMatch: [`<rootDir>/${only}/**/*.test.ts`] } : {}),
  rootDir: '../..',
  testPathIgnorePatterns: [
    '/node_modules/',
    // 10 000 requests (20-60 s) for every mutant it reaches, nearly every one in the serving image, asserting only
    // "no 5xx": the behaviour tests beside it are the ones that must kill mutants.
    '<rootDir>/serving-image/src/fuzz\\.test\\.ts$',
    // Runs the entrypoint as child processes, which start without the mutant under test (their environment is
    // the test's own), so it can kill none and would add 15 s to every mutant of code run at start-up.
    '<rootDir>/serving-image/src/process\\.test\\.ts$',
  ],
};
