// The migrator: Prisma Migrate's bookkeeping, one transaction per migration, the advisory lock, edited files.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../src/db/migrate';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';

const logger = pino({ level: 'silent' });
const databases: TestDatabase[] = [];
const tempDirs: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrate: false });
  databases.push(database);
  return database;
}

function copyOfMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  tempDirs.push(dir);
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  fs.mkdirSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const historyOf = (url: string) =>
  withClient(url, async (client) => (await client.query('SELECT * FROM "_prisma_migrations" ORDER BY migration_name')).rows);

describe('applying migrations', () => {
  it('applies every migration to an empty database and records each as Prisma Migrate does', async () => {
    const database = await emptyDatabase();
    const files = readMigrations();
    const applied = await applyMigrations({ connectionString: database.url, logger });

    expect(applied).toEqual(files.map((file) => file.name));
    const history = await historyOf(database.url);
    expect(history).toHaveLength(files.length);
    for (const [i, row] of history.entries()) {
      const bytes = fs.readFileSync(path.join(MIGRATIONS_DIR, files[i]!.name, 'migration.sql'));
      expect(row).toMatchObject({
        migration_name: files[i]!.name,
        checksum: createHash('sha256').update(bytes).digest('hex'),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
      });
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at).toBeInstanceOf(Date);
    }
  });

  it('creates _prisma_migrations with exactly the columns and types Prisma Migrate uses', async () => {
    const database = await emptyDatabase();
    await applyMigrations({ connectionString: database.url, logger });
    const columns = await withClient(database.url, async (client) =>
      (
        await client.query(
          `SELECT column_name, data_type, character_maximum_length, is_nullable
             FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
        )
      ).rows,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', character_maximum_length: 36, is_nullable: 'NO' },
      { column_name: 'checksum', data_type: 'character varying', character_maximum_length: 64, is_nullable: 'NO' },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', character_maximum_length: null, is_nullable: 'YES' },
      { column_name: 'migration_name', data_type: 'character varying', character_maximum_length: 255, is_nullable: 'NO' },
      { column_name: 'logs', data_type: 'text', character_maximum_length: null, is_nullable: 'YES' },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', character_maximum_length: null, is_nullable: 'YES' },
      { column_name: 'started_at', data_type: 'timestamp with time zone', character_maximum_length: null, is_nullable: 'NO' },
      { column_name: 'applied_steps_count', data_type: 'integer', character_maximum_length: null, is_nullable: 'NO' },
    ]);
  });

  it('applies nothing the second time', async () => {
    const database = await emptyDatabase();
    await applyMigrations({ connectionString: database.url, logger });
    expect(await applyMigrations({ connectionString: database.url, logger })).toEqual([]);
    expect(await historyOf(database.url)).toHaveLength(readMigrations().length);
  });

  it('applies each migration once when two instances migrate the same database at the same time', async () => {
    const database = await emptyDatabase();
    const runs = await Promise.all([
      applyMigrations({ connectionString: database.url, logger }),
      applyMigrations({ connectionString: database.url, logger }),
      applyMigrations({ connectionString: database.url, logger }),
    ]);
    expect(runs.flat().sort()).toEqual(readMigrations().map((file) => file.name));
    expect(await historyOf(database.url)).toHaveLength(readMigrations().length);
  });

  it('applies only the new migration when one is added later', async () => {
    const database = await emptyDatabase();
    const dir = copyOfMigrations();
    await applyMigrations({ connectionString: database.url, logger, dir });
    addMigration(dir, '99990101000000_add_note', 'ALTER TABLE "users" ADD COLUMN "note" TEXT;\n');

    expect(await applyMigrations({ connectionString: database.url, logger, dir })).toEqual(['99990101000000_add_note']);
  });
});

describe('refusing what Prisma Migrate would refuse', () => {
  it('refuses a migration file edited after it was applied, naming it', async () => {
    const database = await emptyDatabase();
    const dir = copyOfMigrations();
    await applyMigrations({ connectionString: database.url, logger, dir });
    const [first] = readMigrations(dir);
    fs.appendFileSync(path.join(dir, first!.name, 'migration.sql'), '\n-- an innocent-looking edit\n');

    await expect(applyMigrations({ connectionString: database.url, logger, dir })).rejects.toThrow(
      new RegExp(`Migration ${first!.name} was edited after it was applied`),
    );
  });

  it('rolls back a failing migration whole, records nothing, and applies it once fixed', async () => {
    const database = await emptyDatabase();
    const dir = copyOfMigrations();
    const broken = '99990101000000_broken';
    addMigration(dir, broken, 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n');

    await expect(applyMigrations({ connectionString: database.url, logger, dir })).rejects.toThrow(
      new RegExp(`Migration ${broken} failed and was rolled back: .*no_such_table`),
    );
    await withClient(database.url, async (client) => {
      expect((await client.query(`SELECT to_regclass('half_done') AS t`)).rows[0].t).toBeNull();
      expect((await client.query('SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1', [broken])).rowCount).toBe(0);
    });

    fs.writeFileSync(path.join(dir, broken, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    expect(await applyMigrations({ connectionString: database.url, logger, dir })).toEqual([broken]);
  });

  it('refuses to go on after a migration Prisma started but never finished', async () => {
    const database = await emptyDatabase();
    await applyMigrations({ connectionString: database.url, logger });
    await withClient(database.url, (client) =>
      client.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('00000000-0000-0000-0000-000000000001', 'x', '99990101000000_failed')`),
    );
    await expect(applyMigrations({ connectionString: database.url, logger })).rejects.toThrow(
      /99990101000000_failed started but never finished.*prisma migrate resolve/,
    );
  });
});
