// The timing harness shared by the load generators: N workers loop until told to stop; only the
// samples taken between the warm-up and the end of the measured window count.

export interface Loop {
  /** False once the measured window is over: a worker finishes its request and returns. */
  readonly running: boolean;
  /** Records one request's latency (ms), if the measured window is open. Returns whether it counted. */
  record(latencyMs: number): boolean;
}

export interface LoopResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
}

export async function runClosedLoop(
  concurrency: number,
  warmupMs: number,
  durationMs: number,
  worker: (loop: Loop) => Promise<void>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let recording = false;
  let running = true;
  const loop: Loop = {
    get running() {
      return running;
    },
    record(latencyMs) {
      if (recording) latencies.push(latencyMs);
      return recording;
    },
  };
  const workers = Array.from({ length: concurrency }, () => worker(loop));
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  recording = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  recording = false;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  const percentile = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { requests: latencies.length, rps: latencies.length / seconds, p50: percentile(50), p99: percentile(99) };
}
