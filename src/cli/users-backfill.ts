// `npm run users:backfill`: exports every Auth0 user through the Management API and imports them.
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { loadConfig } from '../config';
import { ExportWaitInterrupted } from '../sync/export-job';
import { backfillUsers } from '../sync/management-sync';
import { openSyncDatabase } from './sync-database';

async function backfill(): Promise<void> {
  const config = loadConfig();
  const management = createManagementClient(process.env);
  const { pool, prisma, close } = await openSyncDatabase();
  // SIGTERM / Ctrl-C stop the wait, not the export: the job id is remembered and the next run resumes it.
  const interrupted = new AbortController();
  const stop = () => interrupted.abort();
  process.once('SIGTERM', stop).once('SIGINT', stop);
  try {
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const { counts, invalid } = await backfillUsers({
      management,
      pool,
      prisma,
      say,
      pollIntervalMs: Number(process.env.BACKFILL_POLL_MS ?? 2000),
      maxWaitMs: config.backfill.maxWaitMs,
      signal: interrupted.signal,
    });
    say(`backfill done: ${counts.lines} users in the export: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.invalid} invalid`);
    for (const line of invalid) say(`  line ${line.line}: ${line.reason}`);
  } finally {
    await close();
  }
}

backfill().catch((error: unknown) => {
  if (error instanceof ExportWaitInterrupted) {
    process.stderr.write(`users:backfill ${error.message}\n`);
    process.exit(130);
  }
  process.stderr.write(`users:backfill failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
