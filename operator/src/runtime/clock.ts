// Time as a dependency: the queue, the leader elector and the event recorder take a Clock so unit
// tests drive time by hand instead of sleeping. Also the two timestamp formats the API uses.

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

/** A clock that only moves when told to; timers fire in deadline order during `advance`. */
export class FakeClock implements Clock {
  private current = 0;
  private readonly timers = new Set<{ at: number; seq: number; fn: () => void }>();
  private readonly timerWaiters: (() => void)[] = [];
  private seq = 0;

  constructor(private readonly epochMs = Date.UTC(2026, 0, 1)) {}

  monotonicMs(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.epochMs + this.current);
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.add(timer);
    for (const resolve of this.timerWaiters.splice(0)) resolve();
    return { cancel: () => this.timers.delete(timer) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next);
      this.current = next.at;
      next.fn();
    }
    this.current = target;
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Resolves when the next timer is set: code under test has reached its next wait. */
  nextTimer(): Promise<void> {
    return new Promise((resolve) => this.timerWaiters.push(resolve));
  }
}
