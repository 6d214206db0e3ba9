// Time as a dependency: the queue, the leader elector and the event recorder take a Clock so unit
// tests drive time by hand (testing/fake-clock.ts) instead of sleeping. Also the two timestamp formats the API uses.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds: for durations and deadlines (never goes backwards). */
  monotonicMs(): number;
  /** Wall-clock time: for timestamps written to the API. */
  now(): Date;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

/** metav1.Time: RFC 3339 at second precision (what the API server stores and returns). */
export function toMetaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function toMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const realClock: Clock = {
  monotonicMs: () => performance.now(),
  now: () => new Date(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
};

/** What `promise` settles with, or `onTimeout` once `ms` have passed on `clock` first; the timer ends either way. */
export async function withTimeout<T, U>(clock: Clock, ms: number, promise: Promise<T>, onTimeout: U): Promise<T | U> {
  let timer!: TimerHandle; // set at once: a promise's executor runs inside its constructor
  const timedOut = new Promise<U>((resolve) => (timer = clock.setTimer(() => resolve(onTimeout), ms)));
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    timer.cancel();
  }
}

/** Resolves after `ms` on the given clock, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
