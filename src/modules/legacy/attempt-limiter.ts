// Failed legacy password attempts per key (an email, an address), in fixed windows, in process memory.

export interface AttemptLimit {
  /** Failed attempts allowed per key and window; the next ones are refused without checking the password. */
  maxFailures: number;
  windowMs: number;
}

interface Window {
  failures: number;
  resetsAt: number;
}

// Like express-rate-limit's memory store: per process, so N instances allow N times the budget.
const SWEEP_EVERY = 1024;

export class AttemptLimiter {
  private readonly windows = new Map<string, Window>();
  private writes = 0;

  constructor(
    private readonly limit: AttemptLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `key` has used up its failures in the current window. */
  isBlocked(key: string): boolean {
    const window = this.current(key);
    return window !== undefined && window.failures >= this.limit.maxFailures;
  }

  recordFailure(key: string): number {
    const window = this.current(key) ?? { failures: 0, resetsAt: this.now() + this.limit.windowMs };
    window.failures += 1;
    this.windows.set(key, window);
    if (++this.writes % SWEEP_EVERY === 0) this.sweep();
    return window.failures;
  }

  failures(key: string): number {
    return this.current(key)?.failures ?? 0;
  }

  /** A correct password clears the email's failures, as most login systems do. */
  clear(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && window.resetsAt <= this.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}
