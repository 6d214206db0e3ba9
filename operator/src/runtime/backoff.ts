// Exponential backoff, shared by the work queue's per-key rate limiter and the informer's restarts.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** base * 2^failures, capped at max. `failures` counts failures before this one (0 for the first). */
export function exponentialDelayMs(policy: BackoffPolicy, failures: number): number {
  // 2^failures overflows to Infinity long after it passes any sane cap; Math.min handles that.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** failures);
}

/** Spreads retries of many clients apart: a delay drawn uniformly from [delay/2, delay]. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  return delayMs / 2 + random() * (delayMs / 2);
}

/** Per-key failure counting: client-go's ItemExponentialFailureRateLimiter. */
export class ItemBackoff<K> {
  private readonly failures = new Map<K, number>();

  constructor(private readonly policy: BackoffPolicy = { baseMs: 5, maxMs: 1_000_000 }) {}

  /** Records a failure of `key` and returns how long to wait before retrying it. */
  next(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return exponentialDelayMs(this.policy, n);
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}
