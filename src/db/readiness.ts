// Reaches the database in the background at start-up: migrates with backoff until it answers, then says ready.
import type { Logger } from 'pino';
import { applyMigrations, MigrationError } from './migrate';

export interface Readiness {
  isReady(): boolean;
}

export const ALWAYS_READY: Readiness = { isReady: () => true };

// SQLSTATEs that name a mistake in DATABASE_URL rather than an outage: a wrong password (28P01), a
// user or address refused (28000), a database that does not exist (3D000).
const CONFIGURATION_SQLSTATES = new Set(['28P01', '28000', '3D000']);

/**
 * Tries to migrate until it succeeds, waiting 0.5 s, 1 s, 2 s... (at most `maxDelayMs`) between
 * attempts and logging each failed one once. A configuration error (wrong password, missing
 * database) is said as such and retried every `maxDelayMs` only: an operator may fix it without a
 * restart, but hammering the database with failed logins helps nobody. A migration that fails on
 * its own terms (edited, broken SQL) is no outage: it is reported and not retried.
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
        const reason = error instanceof Error ? error.message : String(error);
        const sqlstate = configurationSqlstate(error);
        if (sqlstate) {
          // Postgres' own message names the user or the database, never the password; the URL is not logged.
          delay = this.options.maxDelayMs;
          log.error(
            { attempt, retryInMs: delay, sqlstate, database: describeTarget(this.options.connectionString), reason },
            `database configuration error (check DATABASE_URL): ${reason}; not ready, retrying`,
          );
        } else {
          log.warn({ attempt, retryInMs: delay, reason }, 'database unreachable; not ready, retrying');
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, delay);
        });
      }
    }
  }
}

function configurationSqlstate(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONFIGURATION_SQLSTATES.has(code) ? code : undefined;
}

/** user@host:port/database, without the password. */
function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${decodeURIComponent(url.username)}@${url.host}${url.pathname}`;
  } catch {
    return 'an unparsable DATABASE_URL';
  }
}
