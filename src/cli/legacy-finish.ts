// `npm run legacy:finish [-- --apply]`: bulk-imports the legacy users who never logged in, links them, then retires the scripts.
import { parseArgs } from 'node:util';
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { finishMigration } from '../modules/legacy/finish-migration';
import { openSyncDatabase } from './sync-database';

const USAGE = `Usage: npm run legacy:finish [-- --apply --connection legacy-db]
A dry run unless --apply. With --apply it needs AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID and AUTH0_MGMT_CLIENT_SECRET
(a Management API application with create:users, read:users, read:connections, update:connections).
Safe to stop and to run again: imported users are linked after each job, and users Auth0 already holds are left alone.`;

async function legacyFinish(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apply: { type: 'boolean', default: false },
      connection: { type: 'string', default: process.env.LEGACY_CONNECTION ?? 'legacy-db' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const db = await openSyncDatabase();
  try {
    await finishMigration({
      pool: db.pool,
      management: values.apply ? createManagementClient(process.env) : undefined,
      connectionName: values.connection,
      apply: values.apply,
      say: (line) => process.stdout.write(`${line}\n`),
      pollIntervalMs: Number(process.env.LEGACY_FINISH_POLL_MS ?? 2000),
    });
  } finally {
    await db.close();
  }
}

legacyFinish().catch((error: unknown) => {
  process.stderr.write(`legacy:finish failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
