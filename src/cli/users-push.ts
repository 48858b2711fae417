// `npm run users:push`: one pass of the server's worker: sends the app's SQL changes to users to Auth0, restores what Auth0 refuses.
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createPrismaClient } from '../db/prisma';
import { createLogger } from '../logger';
import { Auth0UsersApi } from '../modules/users/auth0-users-api';
import { UserChangesPusher } from '../modules/users/user-changes-pusher';

async function push(): Promise<void> {
  const config = loadConfig();
  if (!config.writeBack) throw new Error('Set AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID and AUTH0_MGMT_CLIENT_SECRET: a Machine to Machine application granted update:users on the Management API.');
  const logger = createLogger({ ...config.log, level: 'warn' });
  const database = await openDatabase(config.database, logger);
  await applyMigrations({ connectionString: database.connectionString, logger });
  const prisma = createPrismaClient({ connectionString: database.connectionString, poolSize: 2, statementTimeoutMs: config.database.statementTimeoutMs, logger });
  try {
    const pusher = new UserChangesPusher(prisma, new Auth0UsersApi(config.writeBack.management), {
      convergeAfterMs: config.writeBack.convergeAfterMs,
      auth0TimeoutMs: config.writeBack.management.timeoutMs,
      statementTimeoutMs: config.database.statementTimeoutMs,
      logger,
    });
    const counts = await pusher.pushOnce();
    process.stdout.write(`users:push: ${counts.sent} sent, ${counts.refused} refused (restored), ${counts.converged} converged, ${counts.deferred} deferred\n`);
  } finally {
    await prisma.$disconnect();
    await database.close();
  }
}

push().catch((error: unknown) => {
  process.stderr.write(`users:push failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
