// Benchmark scenario 6: generate an Auth0 users export of N users (gzipped NDJSON), time its import and its re-run.
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { applyMigrations } from '../src/db/migrate';
import { createSyncWriterPool } from '../src/modules/users/user-sync-writes';
import { importUsers, openExport } from '../src/sync/import-users';
import { writeAuth0Export, type ExportShape } from './auth0-export';

export interface ImportBenchResult {
  shape: ExportShape;
  users: number;
  seconds: number;
  perSecond: number;
  /** The same file again: every user is unchanged. */
  rerunSeconds: number;
  fileBytes: number;
  peakRssMb: number;
  /** The 1-minute load average before and after: the machine is shared, so figures carry its noise. */
  load: [number, number];
}

/** Imports into a fresh database of its own, so that each shape starts from an empty users table. */
export async function benchImport(options: { adminConnectionString: string; users: number; dir: string; shape: ExportShape; logger: Logger }): Promise<ImportBenchResult> {
  const { users, shape } = options;
  const file = path.join(options.dir, `users-export-${shape}.ndjson.gz`);
  await writeAuth0Export(file, users, shape);
  const database = `bench_import_${shape}`;
  const admin = new Client({ connectionString: options.adminConnectionString });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(options.adminConnectionString);
  url.pathname = `/${database}`;
  const connectionString = url.toString();
  await applyMigrations({ connectionString, logger: options.logger });
  // As users:import does: the export is Auth0's data, written as the sync (the push trigger skips it).
  const pool = createSyncWriterPool(connectionString);
  try {
    const loadBefore = os.loadavg()[0]!;
    // Streaming keeps memory flat: the peak resident size is sampled during the import.
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const run = async () => {
      const started = process.hrtime.bigint();
      const { counts } = await importUsers({ pool, ...openExport(file) });
      return { counts, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    };
    const first = await run().finally(() => clearInterval(sampler));
    if (first.counts.created !== users) throw new Error(`expected ${users} created, got ${JSON.stringify(first.counts)}`);
    const again = await run();
    if (again.counts.unchanged !== users) throw new Error(`expected ${users} unchanged on the re-run, got ${JSON.stringify(again.counts)}`);
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      shape,
      users,
      seconds: round(first.seconds),
      perSecond: Math.round(users / first.seconds),
      rerunSeconds: round(again.seconds),
      fileBytes: openExport(file).size,
      peakRssMb: Math.round(peakRss / 1e6),
      load: [round(loadBefore), round(os.loadavg()[0]!)],
    };
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`).finally(() => admin.end());
  }
}
