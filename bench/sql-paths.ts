// The hot path's SQL three ways, serially on one connection: Prisma's $queryRaw, the pg adapter's own pool, and pg directly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { createPrismaClient } from '../src/db/prisma';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { freePort } from '../test/support/free-port';

const CALLS = Number(process.argv[2] ?? 3000);
const ROUNDS = 5;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sql-'));
  fs.chmodSync(dir, 0o777);
  const logger = pino({ level: 'warn' });
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), logger });
  const prisma = createPrismaClient({ connectionString: postgres.connectionString, poolSize: 1, logger });
  const pool = new Pool({ connectionString: postgres.connectionString, max: 1 });
  try {
    await applyMigrations({ connectionString: postgres.connectionString, logger });
    await pool.query(`INSERT INTO users (auth0_id, email) SELECT 'sql|' || g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g`);
    const paths: Array<[string, (id: string) => Promise<unknown>]> = [
      ['Prisma $queryRaw (tagged template)', (id) => prisma.$queryRaw`SELECT id, auth0_id, email FROM users WHERE auth0_id = ${id}`],
      ['Prisma findUnique', (id) => prisma.user.findUnique({ where: { auth0Id: id } })],
      ['pg Pool.query (what the adapter wraps)', (id) => pool.query('SELECT id, auth0_id, email FROM users WHERE auth0_id = $1', [id])],
    ];
    const timings = new Map<string, number[]>(paths.map(([name]) => [name, []]));
    for (const [, run] of paths) for (let i = 0; i < 300; i += 1) await run(`sql|${(i % 1000) + 1}`);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, run] of round % 2 === 0 ? paths : [...paths].reverse()) {
        const cpu = process.cpuUsage();
        for (let i = 0; i < CALLS; i += 1) await run(`sql|${(i % 1000) + 1}`);
        const used = process.cpuUsage(cpu);
        timings.get(name)!.push((used.user + used.system) / CALLS);
      }
    }
    for (const [name, values] of timings) {
      const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      process.stdout.write(`${name.padEnd(42)} client CPU per call: median ${Math.round(median)} µs (${values.map(Math.round).join(' ')})\n`);
    }
    process.stdout.write(`load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
