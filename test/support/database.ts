// A fresh, migrated database per test file, on the run's Postgres.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { applyMigrations } from '../../src/db/migrate';

export function adminDatabaseUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests through jest (global-setup starts Postgres).');
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database; with `migrate` (the default) it also applies every migration. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  if (options.migrate !== false) await applyMigrations({ connectionString: url, logger: pino({ level: 'silent' }) });
  return {
    name,
    url,
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function withAdminClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(adminDatabaseUrl(), work);
}

export async function withClient<T>(connectionString: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
