// How a pg pool reports an idle connection that died: a warning, unless Postgres is stopping with us.
import type { Logger } from 'pino';
import { processShutdown } from '../shutdown';

/** Postgres ends its connections with this code when it is stopped (admin_shutdown). */
const ADMIN_SHUTDOWN = '57P01';
// On Ctrl-C node's SIGINT and Postgres' goodbye arrive together, in either order: a moment for the shutdown to begin.
const SHUTDOWN_SETTLE_MS = 200;

/**
 * A dropped idle connection is worth a warning (Postgres restarted, the network cut it), except
 * when Postgres stops while this process stops: Ctrl-C signals the embedded Postgres too, which
 * closes our idle connections as our own shutdown begins. That is a clean stop and says nothing.
 */
export function reportIdleConnectionError(log: Logger | undefined, error: unknown): void {
  const code = (error as { code?: unknown }).code;
  const warn = () => log?.warn({ code }, 'an idle database connection failed and was dropped');
  if (code !== ADMIN_SHUTDOWN) return warn();
  const report = () => (processShutdown.stopping ? log?.debug({ code }, 'an idle database connection was closed by Postgres stopping') : warn());
  if (processShutdown.stopping) return report();
  setTimeout(report, SHUTDOWN_SETTLE_MS).unref();
}
