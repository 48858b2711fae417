// `npm run users:push`: one pass of the server's worker: sends the app's SQL changes to users to Auth0, restores what Auth0 refuses.
import { loadOrCreateDevIssuerState } from '../auth/dev-issuer';
import { withDevTenantCredentials } from '../auth/dev-management-api';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createPrismaClient } from '../db/prisma';
import { createLogger } from '../logger';
import { Auth0UsersApi } from '../modules/users/auth0-users-api';
import { UserChangesPusher } from '../modules/users/user-changes-pusher';
import { processShutdown } from '../shutdown';

async function push(): Promise<void> {
  // A signal during start-up stops what has started (an embedded Postgres registers its own stop);
  // during the pass, the pass ends first (each change is one short transaction), then the database.
  processShutdown.install({ exitCodeOnSignal: () => 0 });
  const config = loadConfig();
  if (!config.writeBack) throw new Error(`Set ${config.writeBackMissingSettings.join(', ')}: a Machine to Machine application granted update:users on the Management API.`);
  // Development without a tenant: the running dev server's Management API, with its dev client.
  const writeBack = config.writeBack.devTenantFile
    ? withDevTenantCredentials(config, { client: (await loadOrCreateDevIssuerState(config.auth.devIssuerDir)).client }).writeBack!
    : config.writeBack;
  const logger = createLogger({ ...config.log, level: 'warn' });
  const database = await openDatabase(config.database, logger);
  await applyMigrations({ connectionString: database.connectionString, logger });
  const prisma = createPrismaClient({ connectionString: database.connectionString, poolSize: 2, statementTimeoutMs: config.database.statementTimeoutMs, logger });
  const pass = (async () => {
    try {
      const pusher = new UserChangesPusher(prisma, new Auth0UsersApi(writeBack.management), {
        convergeAfterMs: writeBack.convergeAfterMs,
        auth0TimeoutMs: writeBack.management.timeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
        logger,
      });
      const counts = await pusher.pushOnce();
      process.stdout.write(`users:push: ${counts.sent} sent, ${counts.refused} refused (restored), ${counts.converged} converged, ${counts.awaitingAuth0} awaiting Auth0, ${counts.deferred} deferred\n`);
    } finally {
      await prisma.$disconnect();
      await database.close();
    }
  })();
  processShutdown.add('users:push', () => pass.catch(() => undefined));
  await pass;
}

push().catch((error: unknown) => {
  // Stopping by a signal ends what was starting (an embedded Postgres, its connections): that is
  // the stop's doing, not a failure, and the stop exits with its own code.
  if (processShutdown.stopping) return;
  process.stderr.write(`users:push failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
