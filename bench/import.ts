// Benchmark scenario 6: generate an Auth0 users export of N users (gzipped NDJSON) and time its import.
import fs from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { Pool } from 'pg';
import { importUsers, openExport } from '../src/sync/import-users';

export async function benchImport(connectionString: string, users: number, dir: string): Promise<{ users: number; seconds: number; perSecond: number; fileBytes: number; peakRssMb: number }> {
  const file = path.join(dir, 'users-export.ndjson.gz');
  await writeExport(file, users);
  const pool = new Pool({ connectionString, max: 2 });
  try {
    const { input, gzipped, size } = openExport(file);
    // Streaming keeps memory flat: the peak resident size is sampled during the import.
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const started = process.hrtime.bigint();
    const { counts } = await importUsers({ pool, input, gzipped }).finally(() => clearInterval(sampler));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (counts.created !== users) throw new Error(`expected ${users} created, got ${JSON.stringify(counts)}`);
    return { users, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(users / seconds), fileBytes: size, peakRssMb: Math.round(peakRss / 1e6) };
  } finally {
    await pool.end();
  }
}

async function writeExport(file: string, users: number): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const out = gzip.pipe(fs.createWriteStream(file));
  for (let i = 0; i < users; i += 1) {
    const line = `{"user_id":"${i % 2 ? 'google-oauth2' : 'auth0'}|import-${i}","email":"user${i}@example.com","email_verified":${i % 3 === 0},"name":"User ${i}","picture":"https://example.com/p/${i}.png","identities":[{"connection":"${i % 2 ? 'google-oauth2' : 'Username-Password-Authentication'}"}],"logins_count":${i % 50},"last_login":"2026-10-01T00:00:00.000Z"}\n`;
    if (!gzip.write(line)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await new Promise<void>((resolve) => out.once('finish', () => resolve()));
}
