// `node --import tsx bench/add-user-marker.ts`: what the push trigger and the sync marker cost addUser's one statement.
// Interleaved rounds on one embedded Postgres; prints the median per statement of each variant.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';

const SET = `logins_count = GREATEST(users.logins_count, EXCLUDED.logins_count), last_login_at = GREATEST(users.last_login_at, EXCLUDED.last_login_at), updated_at = now()`;
// addUser before this change: VALUES, no marker.
const PLAIN = `INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (auth0_id) DO UPDATE SET name = EXCLUDED.name, ${SET} RETURNING id, (xmax = 0) AS created`;
// addUser now: the same row through SELECT ... WHERE set_config(...), so the trigger's WHEN skips it.
const MARKED = `INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
  SELECT $1::varchar, $2::varchar, $3::boolean, $4::varchar, $5::varchar, $6::varchar, $7::int, $8::timestamptz
  WHERE set_config('auth0_sync.writer', 'sync', true) IS NOT NULL
  ON CONFLICT (auth0_id) DO UPDATE SET name = EXCLUDED.name, ${SET} RETURNING id, (xmax = 0) AS created`;

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const PER_ROUND = Number(process.env.PER_ROUND ?? 2000);

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-marker-'));
  fs.chmodSync(dir, 0o777);
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), port: 54000 + Math.floor(Math.random() * 1000), logger: pino({ level: 'warn' }) });
  const client = new Client({ connectionString: postgres.connectionString });
  try {
    await applyMigrations({ connectionString: postgres.connectionString, logger: pino({ level: 'warn' }) });
    await client.connect();
    // Without waiting for the WAL flush per commit, which on a shared disk dwarfs what is measured here.
    await client.query('SET synchronous_commit = off');
    const variants: Record<string, { sql: string; trigger: boolean }> = {
      'no trigger, plain statement (before)': { sql: PLAIN, trigger: false },
      'no trigger, marked statement': { sql: MARKED, trigger: false },
      'trigger, marked statement (now)': { sql: MARKED, trigger: true },
      'trigger, unmarked statement (an app UPDATE)': { sql: PLAIN, trigger: true },
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, variant] of Object.entries(variants)) {
        await client.query(`ALTER TABLE users ${variant.trigger ? 'ENABLE' : 'DISABLE'} TRIGGER users_record_app_change`);
        const started = process.hrtime.bigint();
        for (let i = 0; i < PER_ROUND; i += 1) {
          // Half new users (INSERT), half existing ones whose name changes (ON CONFLICT DO UPDATE).
          const id = i % 2 === 0 ? `auth0|bench-${round}-${name.length}-${i}` : `auth0|bench-existing-${i % 200}`;
          await client.query({ name: `${name.length}-${variant.sql.length}`, text: variant.sql, values: [id, `u${i}@example.com`, true, `Name ${round}-${i}`, null, 'auth0', 1, new Date()] });
        }
        samples[name]!.push(Number(process.hrtime.bigint() - started) / 1e3 / PER_ROUND);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    for (const [name, values] of Object.entries(samples)) process.stdout.write(`${name}: median ${median(values).toFixed(1)} µs, best ${Math.min(...values).toFixed(1)} µs per statement (${ROUNDS} rounds of ${PER_ROUND})\n`);
    const changes = await client.query('SELECT count(*)::int AS n FROM user_changes');
    process.stdout.write(`user_changes rows recorded: ${changes.rows[0].n} (only by the unmarked variant)\n`);
  } finally {
    await client.end();
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
