// users:backfill and users:reconcile against a local stand-in of the Management API, into a real Postgres.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { ROOT } from './support/server-process';

const run = promisify(execFile);
let database: TestDatabase;
let mgmt: ManagementApiStandIn;
beforeEach(async () => {
  database = await createTestDatabase();
  mgmt = await startManagementApi();
});
afterEach(async () => {
  await mgmt.close();
  await database.drop();
});

const tenantUser = (i: number, updatedAt: string) => ({
  user_id: `${i % 2 ? 'google-oauth2' : 'auth0'}|sync-${i}`,
  email: `sync${i}@example.com`,
  email_verified: true,
  name: `Sync ${i}`,
  picture: `https://example.com/${i}.png`,
  identities: [{ connection: i % 2 ? 'google-oauth2' : 'Username-Password-Authentication', provider: 'x', user_id: String(i), isSocial: i % 2 === 1 }],
  logins_count: 3,
  last_login: '2026-10-01T00:00:00.000Z',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: updatedAt,
});

const env = () => ({
  PATH: process.env.PATH ?? '',
  DATABASE_URL: database.url,
  ...mgmt.env,
  AUTH0_AUDIENCE: 'https://api.example.com/',
  BACKFILL_POLL_MS: '10',
});

async function cli(script: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return cliWith({}, script, ...args);
}

async function cliWith(extraEnv: Record<string, string>, script: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { cwd: ROOT, env: { ...env(), ...extraEnv } });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

const countUsers = () => withClient(database.url, async (client) => (await client.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|sync-%'`)).rows[0].n as number);

describe('npm run users:backfill', () => {
  it('creates an export job with the fields the User model holds, waits for it, downloads and imports every user', async () => {
    mgmt.users.push(...Array.from({ length: 10_000 }, (_, i) => tenantUser(i, '2026-11-01T00:00:00.000Z')));
    const result = await cli('users-backfill');
    expect(result.code).toBe(0);
    expect(result.out).toContain('backfill done: 10000 users in the export: 10000 created, 0 updated, 0 unchanged, 0 invalid');
    const job = mgmt.calls.find((call) => call.path === '/api/v2/jobs/users-exports')!.body as { format: string; fields: Array<{ name: string; export_as?: string }> };
    expect(job.format).toBe('json');
    expect(job.fields).toEqual(expect.arrayContaining([{ name: 'user_id' }, { name: 'identities[0].connection', export_as: 'connection' }, { name: 'last_login' }]));
    expect(mgmt.calls.filter((call) => call.path.startsWith('/api/v2/jobs/job_')).length).toBe(2);
    expect(await countUsers()).toBe(10_000);
    const sample = await withClient(database.url, async (client) => (await client.query(`SELECT email, connection, logins_count FROM users WHERE auth0_id = 'auth0|sync-42'`)).rows[0]);
    expect(sample).toEqual({ email: 'sync42@example.com', connection: 'Username-Password-Authentication', logins_count: 3 });
  });

  it('a failed export job gives a clear message and a non-zero exit, and imports nothing', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    mgmt.failNextExport();
    const result = await cli('users-backfill');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/users:backfill failed: the export job job_\w+ failed in Auth0/);
    expect(await countUsers()).toBe(0);
  });

  it('a 429 with retry-after is waited out and retried', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    mgmt.failRequests('/jobs/users-exports', 429, { 'retry-after': '1' }, 1);
    const result = await cli('users-backfill');
    expect(result.code).toBe(0);
    expect(mgmt.calls.filter((call) => call.path === '/api/v2/jobs/users-exports')).toHaveLength(2);
    expect(await countUsers()).toBe(1);
  });
});

describe('npm run users:backfill on a large tenant (export jobs that take hours)', () => {
  const exportCreations = () => mgmt.calls.filter((call) => call.method === 'POST' && call.path === '/api/v2/jobs/users-exports').length;
  const rememberedJob = () => withClient(database.url, async (client) => (await client.query(`SELECT job_id FROM sync_checkpoints WHERE name = 'users:backfill'`)).rows[0]?.job_id as string | undefined);

  it('shows the progress Auth0 reports (percentage done, time left) while it waits', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    const result = await cli('users-backfill');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/export job job_\w+: processing, 80% done, about 3 s left/);
  });

  it('interrupted by SIGTERM while Auth0 still exports, the next run waits on the same job: exactly one export job is created', async () => {
    mgmt.users.push(...Array.from({ length: 20 }, (_, i) => tenantUser(i, '2026-11-01T00:00:00.000Z')));
    mgmt.holdExports();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/users-backfill.ts'], { cwd: ROOT, env: env() });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    const waiting = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('processing')) resolve();
      });
      void exited.then((code) => reject(new Error(`exited (${code}) before waiting on the job:\n${out}`)));
    });
    await waiting;
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(out).toMatch(/keeps running in Auth0, and the next users:backfill waits on it/);
    const jobId = await rememberedJob();
    expect(jobId).toMatch(/^job_/);
    expect(await countUsers()).toBe(0);

    mgmt.releaseExports();
    const second = await cli('users-backfill');
    expect(second.code).toBe(0);
    expect(second.out).toContain(`resuming: waiting on export job ${jobId}`);
    expect(second.out).toContain('backfill done: 20 users in the export: 20 created');
    expect(exportCreations()).toBe(1);
    expect(await rememberedJob()).toBeUndefined();
  });

  it('waits as long as BACKFILL_MAX_WAIT_MINUTES says (not a fixed 30 min), then stops, and the next run resumes the same job', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    mgmt.holdExports();
    const first = await cliWith({ BACKFILL_MAX_WAIT_MINUTES: '0.01' }, 'users-backfill');
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/the export job job_\w+ was still "processing" .*it keeps running in Auth0/);
    mgmt.releaseExports();
    const second = await cli('users-backfill');
    expect(second.code).toBe(0);
    expect(second.out).toContain('resuming');
    expect(exportCreations()).toBe(1);
    expect(await countUsers()).toBe(1);
  });

  it('a remembered job that Auth0 no longer knows (404) is replaced by a new one', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    await withClient(database.url, async (client) => {
      await client.query(`INSERT INTO sync_checkpoints (name, value, job_id) VALUES ('users:backfill', now() - interval '2 days', 'job_forgotten0000')`);
    });
    const result = await cli('users-backfill');
    expect(result.code).toBe(0);
    expect(result.out).toContain('the export job job_forgotten0000 is no longer known to Auth0; starting a new one');
    expect(exportCreations()).toBe(1);
    expect(await countUsers()).toBe(1);
  });

  it('a failed job is forgotten: the next run creates a new one', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    mgmt.failNextExport();
    const failed = await cli('users-backfill');
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('The export job failed; please try again.');
    expect(await rememberedJob()).toBeUndefined();
    expect((await cli('users-backfill')).code).toBe(0);
    expect(exportCreations()).toBe(2);
  });

  it('a download link that expired before the download is read again from the job', async () => {
    mgmt.users.push(tenantUser(1, '2026-11-01T00:00:00.000Z'));
    mgmt.expireNextExportLinks(1);
    const result = await cli('users-backfill');
    expect(result.code).toBe(0);
    expect(result.out).toContain('the download link had expired; reading a new one');
    expect(await countUsers()).toBe(1);
  });
});

describe('npm run users:reconcile', () => {
  const at = (i: number) => new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString();

  it('brings in more than 1,000 changed users by moving the window, keeps its checkpoint, and then fetches only what changed', async () => {
    mgmt.users.push(...Array.from({ length: 2500 }, (_, i) => tenantUser(i, at(i))));
    const first = await cli('users-reconcile');
    expect(first.code).toBe(0);
    expect(first.out).toContain('hit the 1,000-result cap; moving the window');
    expect(first.out).toMatch(/2500 created, 0 updated/);
    expect(await countUsers()).toBe(2500);
    const checkpoint = await withClient(database.url, async (client) => (await client.query(`SELECT value FROM sync_checkpoints WHERE name = 'users:reconcile'`)).rows[0].value as Date);
    expect(checkpoint.toISOString()).toBe(at(2499));

    const second = await cli('users-reconcile');
    expect(second.out).toMatch(/reconciled 1 users in 1 window\(s\): 0 created, 0 updated, 1 unchanged/);

    const changed = mgmt.users.find((user) => user.user_id === 'auth0|sync-10')!;
    Object.assign(changed, { name: 'Renamed in Auth0', updated_at: at(5000) });
    const third = await cli('users-reconcile');
    expect(third.out).toMatch(/0 created, 1 updated/);
    const renamed = await withClient(database.url, async (client) => (await client.query(`SELECT name FROM users WHERE auth0_id = 'auth0|sync-10'`)).rows[0].name);
    expect(renamed).toBe('Renamed in Auth0');
  });

  it('--watch reconciles, waits, and stops cleanly on SIGTERM', async () => {
    mgmt.users.push(tenantUser(1, at(1)));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/users-reconcile.ts', '--watch'], { cwd: ROOT, env: { ...env(), RECONCILE_INTERVAL_MS: '600000' } });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    const reconciled = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('reconciled')) resolve();
      });
      void exited.then((code) => reject(new Error(`exited (${code}) before reconciling:\n${out}`)));
    });
    await reconciled;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
    expect(await countUsers()).toBe(1);
  });
});
