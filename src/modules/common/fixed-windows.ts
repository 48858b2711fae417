// Counters per key in fixed windows, in process memory: what the rate limits and the legacy login attempt limits count with.

export interface FixedWindow {
  count: number;
  resetsAt: number;
}

// Like express-rate-limit's memory store: per process, so N instances allow N times the budget.
// Ended windows are dropped when their key is next read, and all of them every so many writes, so
// memory follows the keys seen in the last window.
const SWEEP_EVERY = 1024;

export class FixedWindows {
  private readonly windows = new Map<string, FixedWindow>();
  private writes = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key's window, unless it has none or it has ended. */
  current(key: string): FixedWindow | undefined {
    const window = this.windows.get(key);
    if (window && window.resetsAt <= this.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  /** Counts one for the key, in its window or a new one; gives that window. */
  increment(key: string): FixedWindow {
    let window = this.current(key);
    if (!window) {
      window = { count: 0, resetsAt: this.now() + this.windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (++this.writes % SWEEP_EVERY === 0) this.sweep();
    return window;
  }

  clear(key: string): void {
    this.windows.delete(key);
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }
}
