// `npm run legacy:status`: migrated vs total, the recent rate, who still waits, and inconsistent users with what to do.
import { parseArgs } from 'node:util';
import { describeMigrationStatus, readMigrationStatus } from '../modules/legacy/migration-status';
import { openSyncDatabase } from './sync-database';

async function legacyStatus(): Promise<void> {
  const { values } = parseArgs({ options: { days: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } } });
  const db = await openSyncDatabase();
  try {
    const status = await readMigrationStatus(db.pool, Number(values.days));
    process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : `${describeMigrationStatus(status).join('\n')}\n`);
    if (status.problems.length > 0) process.exitCode = 3;
  } finally {
    await db.close();
  }
}

legacyStatus().catch((error: unknown) => {
  process.stderr.write(`legacy:status failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
