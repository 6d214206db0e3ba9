// The Clock the unit tests drive by hand.
import type { Clock, TimerHandle } from '../clock.js';

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
