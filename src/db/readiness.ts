// Reaches the database in the background at start-up: migrates with backoff until it answers, then says ready.
import type { Logger } from 'pino';
import { applyMigrations, MigrationError } from './migrate';

export interface Readiness {
  isReady(): boolean;
}

export const ALWAYS_READY: Readiness = { isReady: () => true };

/**
 * Tries to migrate until it succeeds, waiting 0.5 s, 1 s, 2 s... (at most `maxDelayMs`) between
 * attempts and logging each failed one once. A migration that fails on its own terms (edited,
 * broken SQL) is no outage: it is reported and not retried.
 */
export class DatabaseReadiness implements Readiness {
  private ready = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly options: { connectionString: string; logger: Logger; maxDelayMs: number; onFatal: (error: MigrationError) => void },
  ) {
    this.done = this.run();
  }

  isReady(): boolean {
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    const log = this.options.logger.child({ module: 'readiness' });
    for (let attempt = 1, delay = 500; !this.stopped; attempt += 1, delay = Math.min(delay * 2, this.options.maxDelayMs)) {
      try {
        await applyMigrations({ connectionString: this.options.connectionString, logger: this.options.logger });
        this.ready = true;
        if (attempt > 1) log.info({ attempt }, 'database reached: ready');
        return;
      } catch (error) {
        if (error instanceof MigrationError) {
          this.options.onFatal(error);
          return;
        }
        log.warn({ attempt, retryInMs: delay, reason: error instanceof Error ? error.message : String(error) }, 'database unreachable; not ready, retrying');
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, delay);
        });
      }
    }
  }
}
