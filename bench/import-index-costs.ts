// `node --import tsx bench/import-index-costs.ts`: what each index of users and the push trigger cost the import, per row, at a million users.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import pino from 'pino';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { createSyncWriterPool } from '../src/modules/users/user-sync-writes';
import { upsertUsers, type ImportedUser } from '../src/modules/users/users-bulk-upsert';
import { importUsers, openExport, parseExportLine, splitLines } from '../src/sync/import-users';
import { freePort } from '../test/support/free-port';
import { writeAuth0Export } from './auth0-export';
import { postgresCpuSeconds } from './cpu';

const { values: flags } = parseArgs({
  options: {
    file: { type: 'string' },
    users: { type: 'string', default: '1000000' },
    batches: { type: 'string', default: '8' },
  },
});

const BATCH = 5000;

let postmasterPidFile = '';

/** CPU seconds of the embedded Postgres' processes (this bench runs on Linux only). */
function postgresCpu(): number {
  const seconds = postgresCpuSeconds(postmasterPidFile);
  if (seconds === undefined) throw new Error('bench/import-index-costs.ts reads CPU times from /proc (Linux)');
  return seconds;
}

/** The file's first `count` batches of valid users. */
async function firstBatches(file: string, count: number): Promise<ImportedUser[][]> {
  const batches: ImportedUser[][] = [];
  let batch: ImportedUser[] = [];
  for await (const lines of splitLines(fs.createReadStream(file).pipe(createGunzip()))) {
    for (const line of lines) {
      const user = parseExportLine(line);
      if (typeof user === 'string') continue;
      batch.push(user);
      if (batch.length === BATCH) {
        batches.push(batch);
        batch = [];
      }
    }
    if (batches.length >= count) break;
  }
  return batches.slice(0, count);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-index-costs-'));
  fs.chmodSync(dir, 0o777);
  const file = flags.file ?? path.join(dir, 'users.ndjson.gz');
  if (!flags.file) await writeAuth0Export(file, Number(flags.users), 'realistic');
  const logger = pino({ level: 'warn' });
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), logger });
  postmasterPidFile = path.join(dir, 'pg', 'postmaster.pid');
  const pool = createSyncWriterPool(postgres.connectionString);
  try {
    await applyMigrations({ connectionString: postgres.connectionString, logger });
    process.stdout.write(`loading ${file}, load average ${os.loadavg()[0]!.toFixed(1)}\n`);
    await importUsers({ pool, ...openExport(file) });
    const batches = await firstBatches(file, Number(flags.batches));
    const rows = batches.length * BATCH;
    const indexes = (await pool.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' AND indexname <> 'users_auth0_id_key'`)).rows;

    let round = 0;
    // Writes the batches as new users (a fresh suffix on their ids each time), or as updates of the
    // users they name (a fresh name), and says what they cost Postgres per row.
    const measure = async (kind: 'new' | 'update') => {
      round += 1;
      const write = batches.map((batch) => batch.map((user) => (kind === 'new' ? { ...user, auth0Id: `${user.auth0Id}-${round}` } : { ...user, name: `${user.name ?? ''} ${round}` })));
      await pool.query('CHECKPOINT');
      const wal = (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0]!.lsn;
      const before = postgresCpu();
      for (const batch of write) await upsertUsers(pool, batch);
      const cpu = postgresCpu() - before;
      const walBytes = Number((await pool.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS bytes', [wal])).rows[0]!.bytes);
      return { microseconds: (cpu * 1e6) / rows, walBytes: walBytes / rows };
    };
    const say = (label: string, cost: { microseconds: number; walBytes: number }, base?: { microseconds: number; walBytes: number }) =>
      process.stdout.write(
        `  ${label.padEnd(44)} ${cost.microseconds.toFixed(1).padStart(6)} µs/row of Postgres CPU, ${cost.walBytes.toFixed(0).padStart(5)} B/row of WAL` +
          `${base ? `  (the index: ${(base.microseconds - cost.microseconds).toFixed(1)} µs, ${(base.walBytes - cost.walBytes).toFixed(0)} B)` : ''}   load ${os.loadavg()[0]!.toFixed(1)}\n`,
      );

    process.stdout.write(`${rows} rows a measure, new users unless said, CHECKPOINT before each; each index is measured between two measures with every index\n`);
    let withAll = await measure('new');
    say('every index', withAll);
    for (const { indexname, indexdef } of indexes) {
      await pool.query(indexname === 'users_pkey' ? 'ALTER TABLE users DROP CONSTRAINT users_pkey CASCADE' : `DROP INDEX ${indexname}`);
      const without = await measure('new');
      if (indexname === 'users_pkey') {
        await pool.query('ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id)');
        await pool.query('ALTER TABLE transactions ADD CONSTRAINT transactions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE ON UPDATE CASCADE');
      } else {
        await pool.query(indexdef);
      }
      const next = await measure('new');
      const around = { microseconds: (withAll.microseconds + next.microseconds) / 2, walBytes: (withAll.walBytes + next.walBytes) / 2 };
      say(`without ${indexname}`, without, around);
      say('every index', next);
      withAll = next;
    }
    say('updates, trigger on (marked: its WHEN skips it)', await measure('update'));
    await pool.query('ALTER TABLE users DISABLE TRIGGER users_record_app_change');
    say('updates, trigger disabled', await measure('update'));
    await pool.query('ALTER TABLE users ENABLE TRIGGER users_record_app_change');
    say('updates, trigger on, again', await measure('update'));
  } finally {
    await pool.end();
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
