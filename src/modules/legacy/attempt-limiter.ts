// Failed legacy password attempts per key (an email, an address), in fixed windows, in process memory.
import { FixedWindows } from '../common/fixed-windows';

export interface AttemptLimit {
  /** Failed attempts allowed per key and window; the next ones are refused without checking the password. */
  maxFailures: number;
  windowMs: number;
}

export class AttemptLimiter {
  private readonly windows: FixedWindows;

  constructor(
    private readonly limit: AttemptLimit,
    now: () => number = Date.now,
  ) {
    this.windows = new FixedWindows(limit.windowMs, now);
  }

  /** Whether `key` has used up its failures in the current window. */
  isBlocked(key: string): boolean {
    return this.failures(key) >= this.limit.maxFailures;
  }

  recordFailure(key: string): number {
    return this.windows.increment(key).count;
  }

  failures(key: string): number {
    return this.windows.current(key)?.count ?? 0;
  }

  /** A correct password clears the email's failures, as most login systems do. */
  clear(key: string): void {
    this.windows.clear(key);
  }
}
