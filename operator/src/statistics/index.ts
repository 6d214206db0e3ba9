// Drift statistics over binned distributions (contract C5): pure functions of two histograms with
// the same bins, given as counts per bin. The DriftMonitor scores features with them; the
// ModelVersion canary compares canary and stable prediction scores with them.
export { psi, PSI_EPSILON } from './psi.js';
export { ksBinned } from './ks.js';
export { jensenShannon } from './jensen-shannon.js';
export { chiSquare, type ChiSquareResult } from './chi-square.js';
export { EmptyDistributionError } from './binned.js';
