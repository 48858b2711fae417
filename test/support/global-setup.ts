// Starts one real Postgres for the whole test run (embedded), unless DATABASE_URL names one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { freePort } from './free-port';

declare global {
  // eslint-disable-next-line no-var
  var __testPostgres: { postgres: EmbeddedPostgres; dir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_ADMIN_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  // A directory the `postgres` user can write when tests run as root (a root-owned checkout is not).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth0-sync-test-pg-'));
  fs.chmodSync(dir, 0o777);
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'data'), port: await freePort(), logger: pino({ level: 'warn' }) });
  globalThis.__testPostgres = { postgres, dir };
  process.env.TEST_ADMIN_DATABASE_URL = postgres.adminConnectionString;
}
