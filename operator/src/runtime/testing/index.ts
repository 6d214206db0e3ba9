// Test support for reconcilers: the runtime's interfaces implemented in memory (see in-memory-cluster.ts).
export {
  InMemoryCluster,
  type LogRecord,
  type RecordedEvent,
  type RecordedWrite,
  type WriteInterceptor,
  type WriteVerb,
} from './in-memory-cluster.js';
export { FakeClock } from './fake-clock.js';
export { refusedUrl } from './refused.js';
