// `npm run bench:import`: where users:import spends its time, stage by stage, on a generated Auth0 export.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { Pool } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { upsertUsers, type ImportedUser } from '../src/modules/users/users-bulk-upsert';
import { importUsers, openExport, parseAuth0User } from '../src/sync/import-users';
import { freePort } from '../test/support/free-port';
import { isExportShape, writeAuth0Export } from './auth0-export';

const BATCH = 5000;

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    shape: { type: 'string', default: 'realistic' },
    file: { type: 'string' },
    out: { type: 'string' },
  },
});

interface Stage {
  stage: string;
  seconds: number;
  /** What this stage adds to the one before it (for the cumulative read stages). */
  adds?: number;
  note?: string;
}

const seconds = (started: bigint) => Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return seconds(started);
}

function openText(file: string) {
  const input = fs.createReadStream(file);
  return file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
}

const lines = (file: string) => readline.createInterface({ input: openText(file), crlfDelay: Infinity });

/** Every valid user of the file, in batches of distinct ids as the import makes them. */
async function readBatches(file: string): Promise<ImportedUser[][]> {
  const batches: ImportedUser[][] = [];
  let batch = new Map<string, ImportedUser>();
  for await (const line of lines(file)) {
    const user = parseAuth0User(JSON.parse(line));
    if (typeof user === 'string') continue;
    batch.set(user.auth0Id, user);
    if (batch.size >= BATCH) {
      batches.push([...batch.values()]);
      batch = new Map();
    }
  }
  if (batch.size > 0) batches.push([...batch.values()]);
  return batches;
}

async function main(): Promise<void> {
  const shape = flags.shape;
  if (!isExportShape(shape)) throw new Error(`--shape must be realistic or thin, not ${shape}`);
  const users = Number(flags.users);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-import-'));
  fs.chmodSync(dir, 0o777);
  const file = flags.file ?? path.join(dir, `users-${shape}.ndjson.gz`);
  if (!fs.existsSync(file)) {
    process.stdout.write(`writing ${users} ${shape} users to ${file}\n`);
    await writeAuth0Export(file, users, shape);
  }
  const log = pino({ level: 'warn' });
  let postgres: EmbeddedPostgres | undefined;
  const connectionString = process.env.DATABASE_URL ?? (postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), logger: log })).connectionString;
  const pool = new Pool({ connectionString, max: 2 });
  const stages: Stage[] = [];
  const say = (stage: Stage) => {
    stages.push(stage);
    process.stdout.write(`  ${stage.stage.padEnd(44)} ${String(stage.seconds).padStart(7)} s${stage.adds === undefined ? '' : ` (adds ${stage.adds} s)`}${stage.note ? `  ${stage.note}` : ''}   load ${os.loadavg()[0]!.toFixed(1)}\n`);
  };
  const cumulative = (stage: string, value: number) => say({ stage, seconds: value, adds: Math.round((value - (stages.at(-1)?.seconds ?? 0)) * 100) / 100 });
  const fresh = async () => {
    await pool.query('TRUNCATE users CASCADE');
    await pool.query('CHECKPOINT');
  };
  try {
    await applyMigrations({ connectionString, logger: log });
    const loadBefore = os.loadavg();
    process.stdout.write(`${file}: ${Math.round(fs.statSync(file).size / 1e6)} MB, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}\n`);

    cumulative('read + gunzip', await timed(async () => { for await (const _ of openText(file)); }));
    cumulative('+ line split', await timed(async () => { for await (const _ of lines(file)); }));
    cumulative('+ JSON parse', await timed(async () => { for await (const line of lines(file)) JSON.parse(line); }));
    cumulative('+ validation', await timed(async () => { for await (const line of lines(file)) parseAuth0User(JSON.parse(line)); }));
    let batches: ImportedUser[][] = [];
    cumulative('+ batching', await timed(async () => (batches = await readBatches(file))));

    const sqlAlone = async (target = pool) => {
      await fresh();
      return timed(async () => { for (const batch of batches) await upsertUsers(target, batch); });
    };
    const sql = await sqlAlone();
    say({ stage: 'SQL alone (batches from memory), empty table', seconds: sql });
    const secondary = ['users_email_idx', 'users_created_at_id_idx'];
    const definitions = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1)`, [secondary]);
    await pool.query(`DROP INDEX ${secondary.join(', ')}`);
    const withoutIndexes = await sqlAlone();
    for (const { indexdef } of definitions.rows) await pool.query(indexdef);
    say({ stage: '  of which index maintenance', seconds: Math.round((sql - withoutIndexes) * 100) / 100, note: `(without the email and created_at indexes: ${withoutIndexes} s)` });
    const asyncPool = new Pool({ connectionString, max: 2, options: '-c synchronous_commit=off' });
    const asyncCommit = await sqlAlone(asyncPool).finally(() => asyncPool.end());
    say({ stage: '  of which commit (WAL flush)', seconds: Math.round((sql - asyncCommit) * 100) / 100, note: `(synchronous_commit off: ${asyncCommit} s)` });
    batches = [];

    await fresh();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    let counts = {};
    const first = await timed(async () => ({ counts } = await importUsers({ pool, ...openExport(file) }))).finally(() => clearInterval(sampler));
    say({ stage: 'users:import, empty table', seconds: first, note: `${JSON.stringify(counts)}, peak RSS ${Math.round(peakRss / 1e6)} MB` });
    const again = await timed(async () => ({ counts } = await importUsers({ pool, ...openExport(file) })));
    say({ stage: 'users:import again (nothing changes)', seconds: again, note: JSON.stringify(counts) });

    const report = { date: new Date().toISOString(), file, bytes: fs.statSync(file).size, shape, load: { before: loadBefore, after: os.loadavg() }, node: process.version, stages };
    const out = flags.out ?? path.join(__dirname, 'results', `import-${shape}-${report.date.replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`results written to ${out}\n`);
  } finally {
    await pool.end();
    await postgres?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
