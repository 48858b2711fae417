// `npm run users:backfill`: exports every Auth0 user through the Management API and imports them.
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { backfillUsers } from '../sync/management-sync';
import { openSyncDatabase } from './sync-database';

async function backfill(): Promise<void> {
  const management = createManagementClient(process.env);
  const { pool, close } = await openSyncDatabase();
  try {
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const { counts, invalid } = await backfillUsers({ management, pool, say, pollIntervalMs: Number(process.env.BACKFILL_POLL_MS ?? 2000) });
    say(`backfill done: ${counts.lines} users in the export: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.invalid} invalid`);
    for (const line of invalid) say(`  line ${line.line}: ${line.reason}`);
  } finally {
    await close();
  }
}

backfill().catch((error: unknown) => {
  process.stderr.write(`users:backfill failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
