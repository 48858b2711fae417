// `npm run users:reconcile [-- --watch]`: upserts the Auth0 users changed since the last checkpoint, once or every few minutes.
import { parseArgs } from 'node:util';
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { reconcileUsers } from '../sync/management-sync';
import { processShutdown } from '../shutdown';
import { openSyncDatabase } from './sync-database';

async function reconcile(): Promise<void> {
  processShutdown.install({ exitCodeOnSignal: () => 0 });
  const { values } = parseArgs({ options: { watch: { type: 'boolean', default: false } } });
  const intervalMs = Number(process.env.RECONCILE_INTERVAL_MS ?? 5 * 60_000);
  const management = createManagementClient(process.env);
  const { pool, prisma, close } = await openSyncDatabase();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let stopping = false;
  let wake: (() => void) | undefined;
  const rounds = runRounds();
  // On SIGTERM, SIGINT or SIGHUP the round under way finishes, then the database (and an embedded Postgres) closes.
  processShutdown.add('users:reconcile', async () => {
    stopping = true;
    wake?.();
    await rounds.catch(() => {});
  });
  await rounds;

  async function runRounds(): Promise<void> {
    try {
      do {
        try {
          const result = await reconcileUsers({ management, pool, prisma, say });
          say(`reconciled ${result.fetched} users in ${result.windows} window(s): ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ${result.invalid} invalid; checkpoint ${result.checkpoint.toISOString()}`);
        } catch (error) {
          if (!values.watch) throw error;
          // In watch mode one failed round (Auth0 unreachable, rate limited) waits for the next.
          process.stderr.write(`users:reconcile: this round failed: ${describeManagementError(error)}\n`);
        }
        if (values.watch && !stopping) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, intervalMs);
          });
          clearTimeout(timer);
        }
      } while (values.watch && !stopping);
      if (stopping) say('stopped');
    } finally {
      await close();
    }
  }
}

reconcile().catch((error: unknown) => {
  process.stderr.write(`users:reconcile failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
