// `npm run bench:import`: where users:import spends its time, stage by stage, on a generated Auth0 export.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { Pool } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { createSyncWriterPool } from '../src/modules/users/user-sync-writes';
import { upsertUsers, type ImportedUser } from '../src/modules/users/users-bulk-upsert';
import { createBatchWriters } from '../src/sync/batch-writers';
import { importUsers, openExport, parseAuth0User, splitLines } from '../src/sync/import-users';
import { freePort } from '../test/support/free-port';
import { isExportShape, writeAuth0Export } from './auth0-export';
import { postgresCpuSeconds } from './cpu';

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
  /** CPU seconds of this process and of Postgres (all its processes) during the stage. */
  cpu?: { node: number; postgres?: number };
  /** What this stage adds to the one before it (for the cumulative read stages). */
  adds?: number;
  note?: string;
}

const seconds = (started: bigint) => Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;

let postmasterPidFile: string | undefined;
let lastCpu: Stage['cpu'];

async function timed(run: () => Promise<unknown>): Promise<number> {
  const pgBefore = postmasterPidFile ? postgresCpuSeconds(postmasterPidFile) : undefined;
  const nodeBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run();
  const wall = seconds(started);
  const node = process.cpuUsage(nodeBefore);
  const pgAfter = postmasterPidFile ? postgresCpuSeconds(postmasterPidFile) : undefined;
  lastCpu = { node: Math.round((node.user + node.system) / 1e4) / 100 };
  if (pgBefore !== undefined && pgAfter !== undefined) lastCpu.postgres = Math.round((pgAfter - pgBefore) * 100) / 100;
  return wall;
}

function openText(file: string) {
  const input = fs.createReadStream(file);
  return file.endsWith('.gz') ? input.pipe(createGunzip({ chunkSize: 64 * 1024 })) : input;
}

// Each line, as users:import reads them.
async function eachLine(file: string, use: (line: string) => void): Promise<void> {
  for await (const lines of splitLines(openText(file))) for (const line of lines) use(line);
}

/** Every valid user of the file, in batches of distinct ids as the import makes them, handed to `use`. */
async function readBatches(file: string, use: (batch: ImportedUser[]) => void): Promise<void> {
  let batch = new Map<string, ImportedUser>();
  await eachLine(file, (line) => {
    const user = parseAuth0User(JSON.parse(line));
    if (typeof user === 'string') return;
    batch.set(user.auth0Id, user);
    if (batch.size >= BATCH) {
      use([...batch.values()]);
      batch = new Map();
    }
  });
  if (batch.size > 0) use([...batch.values()]);
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
  if (postgres) postmasterPidFile = path.join(dir, 'pg', 'postmaster.pid');
  // As users:import writes: marked as the sync's writes (the push trigger skips them).
  const pool = createSyncWriterPool(connectionString);
  const stages: Stage[] = [];
  const say = (stage: Stage) => {
    stage.cpu ??= lastCpu;
    lastCpu = undefined;
    stages.push(stage);
    const cpu = stage.cpu ? ` cpu node ${stage.cpu.node} s${stage.cpu.postgres === undefined ? '' : `, postgres ${stage.cpu.postgres} s`}` : '';
    process.stdout.write(`  ${stage.stage.padEnd(44)} ${String(stage.seconds).padStart(7)} s${stage.adds === undefined ? '' : ` (adds ${stage.adds} s)`}${cpu}${stage.note ? `  ${stage.note}` : ''}   load ${os.loadavg()[0]!.toFixed(1)}\n`);
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
    cumulative('+ line split', await timed(() => eachLine(file, () => {})));
    cumulative('+ JSON parse', await timed(() => eachLine(file, (line) => JSON.parse(line))));
    cumulative('+ validation', await timed(() => eachLine(file, (line) => parseAuth0User(JSON.parse(line)))));
    cumulative('+ batching', await timed(() => readBatches(file, () => {})));
    // Held in memory (not timed), so that the SQL runs alone.
    let batches: ImportedUser[][] = [];
    await readBatches(file, (batch) => batches.push(batch));

    const sqlAlone = async (target: Pool = pool) => {
      await fresh();
      const wall = await timed(async () => { for (const batch of batches) await upsertUsers(target, batch); });
      const cpu = lastCpu!;
      lastCpu = undefined;
      return { wall, cpu };
    };
    const round = (value: number) => Math.round(value * 100) / 100;
    const minus = (a: Awaited<ReturnType<typeof sqlAlone>>, b: typeof a): Pick<Stage, 'seconds' | 'cpu'> => ({
      seconds: round(a.wall - b.wall),
      cpu: { node: round(a.cpu.node - b.cpu.node), postgres: a.cpu.postgres === undefined ? undefined : round(a.cpu.postgres - (b.cpu.postgres ?? 0)) },
    });
    const sql = await sqlAlone();
    say({ stage: 'SQL alone (batches from memory), empty table', seconds: sql.wall, cpu: sql.cpu });
    // As the import writes: two batches at a time, each on its own connection (none shares a user here).
    await fresh();
    const twoWriters = await timed(async () => {
      const writers = createBatchWriters<string>(2);
      for (const batch of batches) await writers.submit(new Map(batch.map((user) => [user.auth0Id, true])), async () => void (await upsertUsers(pool, batch)));
      await writers.drain();
    });
    say({ stage: 'SQL alone, two batches at a time', seconds: twoWriters });
    const secondary = ['users_email_idx', 'users_created_at_id_idx'];
    const definitions = await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1)`, [secondary]);
    await pool.query(`DROP INDEX ${secondary.join(', ')}`);
    const withoutIndexes = await sqlAlone();
    for (const { indexdef } of definitions.rows) await pool.query(indexdef);
    say({ stage: '  of which index maintenance (email, created_at)', ...minus(sql, withoutIndexes), note: `(without those two indexes: ${withoutIndexes.wall} s)` });
    const asyncPool = new Pool({ connectionString, max: 2, options: '-c synchronous_commit=off' });
    const asyncCommit = await sqlAlone(asyncPool).finally(() => asyncPool.end());
    say({ stage: '  of which commit (WAL flush)', ...minus(sql, asyncCommit), note: `(synchronous_commit off: ${asyncCommit.wall} s)` });
    batches = [];

    await fresh();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    let counts = {};
    const first = await timed(async () => ({ counts } = await importUsers({ pool, ...openExport(file) }))).finally(() => clearInterval(sampler));
    say({ stage: 'users:import, empty table', seconds: first, note: `${JSON.stringify(counts)}, peak RSS ${Math.round(peakRss / 1e6)} MB (this process held every batch for \"SQL alone\" before; scenario 6 of npm run bench measures the import alone)` });
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
