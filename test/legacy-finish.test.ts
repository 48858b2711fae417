// Deploying the custom database connection, legacy:status on a mixed population, and legacy:finish
// (dry run, apply, re-run) against the Management API stand-in, each checked in Postgres.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { promisify } from 'node:util';
import { compileScript } from '../src/action-runtime/run-custom-db-script';
import type { LegacyEncoding } from '../src/modules/legacy/make-legacy-hash';
import { NO_OP_SCRIPTS } from '../src/auth0-deploy/deploy-legacy-connection';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { createLegacyUser } from './support/legacy';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { ROOT } from './support/server-process';

const run = promisify(execFile);

let mgmt: ManagementApiStandIn;
let database: TestDatabase;
beforeEach(async () => {
  mgmt = await startManagementApi();
  database = await createTestDatabase();
});
afterEach(async () => {
  await mgmt.close();
  await database.drop();
});

const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  DATABASE_URL: database.url,
  LOG_LEVEL: 'warn',
  ...mgmt.env,
  ACTION_CLIENT_ID: 'scripts-client-id',
  ACTION_CLIENT_SECRET: `scripts-secret-${randomUUID()}`,
  AUTH0_AUDIENCE: 'https://api.example.com/',
  ACTION_API_URL: 'https://sync.example.ngrok.app/graphql',
  ACTION_BUILD_POLL_MS: '10',
  LEGACY_FINISH_POLL_MS: '10',
  ...overrides,
});

async function cli(script: string, args: string[], environment = env()): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: environment });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

const deployConnection = (environment = env()) => cli('src/cli/action-deploy.ts', ['--legacy-connection', 'legacy-db'], environment);
const writes = () => mgmt.calls.filter((call) => call.method !== 'GET' && call.path !== '/oauth/token').map((call) => `${call.method} ${call.path}`);
const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []) => withClient(database.url, async (client) => (await client.query<T>(text, values)).rows);
const legacy = (encoding: LegacyEncoding = 'bcrypt') => createLegacyUser(database.url, { encoding, transactions: 2 });

describe('npm run action:deploy -- --legacy-connection', () => {
  it('creates the custom database connection in import mode with both scripts and their configuration, gives the Action LEGACY_CONNECTION, and a re-run changes nothing', async () => {
    const environment = env();
    const first = await deployConnection(environment);
    expect(first.code).toBe(0);
    const [connection] = [...mgmt.connections.values()];
    expect(connection).toMatchObject({ name: 'legacy-db', strategy: 'auth0', options: { enabledDatabaseCustomization: true, import_mode: true } });
    const options = connection!.options as { customScripts: Record<string, string>; configuration: Record<string, string> };
    expect(options.configuration).toEqual({
      AUTH0_DOMAIN: mgmt.domain,
      CLIENT_ID: 'scripts-client-id',
      CLIENT_SECRET: environment.ACTION_CLIENT_SECRET,
      API_AUDIENCE: 'https://api.example.com/',
      API_URL: 'https://sync.example.ngrok.app/graphql',
    });
    expect(options.customScripts.login).toContain('async function login(email, password, callback)');
    expect(options.customScripts.get_user).toContain('async function getUser(email, callback)');
    // The deployed text (with its fingerprint line) is still one function, as Auth0 stores it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deployed-'));
    for (const [name, code] of Object.entries(options.customScripts)) {
      fs.writeFileSync(path.join(dir, `${name}.js`), code);
      expect(typeof compileScript(path.join(dir, `${name}.js`), vm.createContext({}))).toBe('function');
    }
    const action = [...mgmt.actions.values()][0]!;
    expect(action.secrets.map((secret) => secret.name)).toContain('LEGACY_CONNECTION');
    expect(first.out).not.toContain(environment.ACTION_CLIENT_SECRET);

    const before = writes().length;
    const second = await deployConnection(environment);
    expect(second.code).toBe(0);
    expect(second.out).toContain('the custom database connection "legacy-db"');
    expect(second.out).toContain('is up to date');
    expect(writes().slice(before)).toEqual([]);

    // A new secret value is a change: the connection is updated, keeping its other options.
    connection!.options.passwordPolicy = 'good';
    const third = await deployConnection({ ...environment, ACTION_CLIENT_SECRET: 'rotated-secret-value' });
    expect(third.out).toContain('updated the custom database connection "legacy-db"');
    expect(mgmt.connections.get(connection!.id)!.options).toMatchObject({ passwordPolicy: 'good', configuration: { CLIENT_SECRET: 'rotated-secret-value' } });
  });
});

describe('npm run legacy:status', () => {
  it('reports a mixed population: migrated vs total, the rate, who waits, and each kind of inconsistency with what to do', async () => {
    const waiting = await legacy();
    const migrated = await legacy('argon2id');
    const linkedWithHash = await legacy('scrypt');
    const knownNotLinked = await legacy('pbkdf2-sha256');
    const deleted = await legacy();
    await sql(`UPDATE users SET password_hash = NULL, migrated_at = now() WHERE auth0_id = $1`, [migrated.auth0Id]);
    await sql(`UPDATE users SET migrated_at = now() - interval '2 days' WHERE auth0_id = $1`, [linkedWithHash.auth0Id]);
    // What users:reconcile writes when Auth0 reports the user: its connection and login count.
    await sql(`UPDATE users SET connection = 'legacy-db', logins_count = 1 WHERE auth0_id = $1`, [knownNotLinked.auth0Id]);
    await sql(`UPDATE users SET deleted_at = now() WHERE auth0_id = $1`, [deleted.auth0Id]);
    await sql(`INSERT INTO users (auth0_id, email) VALUES ($1, $2)`, [`google-oauth2|${randomUUID()}`, waiting.email]);

    const { code, out } = await cli('src/cli/legacy-status.ts', []);
    expect(code).toBe(3);
    expect(out).toContain('legacy users: 2 of 5 migrated (40%), 2 still waiting');
    expect(out).toMatch(/migrated over the last 7 days: 2 \(.*\d\d-\d\d: 1.*\d\d-\d\d: 1\)/);
    expect(out).toContain(`INCONSISTENT linked-with-hash: 1 (e.g. ${linkedWithHash.legacyId})`);
    expect(out).toContain(`INCONSISTENT in-auth0-not-linked: 1 (e.g. ${knownNotLinked.legacyId})`);
    expect(out).toContain(`INCONSISTENT deleted-waiting: 1 (e.g. ${deleted.legacyId})`);
    expect(out).toContain('what to do: Auth0 holds their password: erase the legacy hash with `npm run legacy:finish -- --apply`');
    expect(out).toContain(`1 waiting legacy users share their address with another user (e.g. ${waiting.legacyId})`);
    expect(out).not.toMatch(/\$2[aby]\$|\$argon2|\$scrypt|pbkdf2-sha256\$/);
  });

  it('warns, without failing, about waiting users whose hash is an unsalted fast hash, with their count and what to do', async () => {
    const unsalted = [
      await legacy('md5-unsalted'),
      // RFC 2307 {SHA}: SHA-1 of "abc" (FIPS 180), no salt.
      await createLegacyUser(database.url, { passwordHash: `{SHA}${Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64')}` }),
      await createLegacyUser(database.url, { passwordHash: JSON.stringify({ algorithm: 'hmac', hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } } }) }),
    ];
    await legacy('sha1-salted');
    await legacy('ldap-ssha');
    await legacy('bcrypt');
    const migrated = await legacy('md5-unsalted');
    await sql(`UPDATE users SET password_hash = NULL, migrated_at = now() WHERE auth0_id = $1`, [migrated.auth0Id]);

    const { code, out } = await cli('src/cli/legacy-status.ts', []);
    expect(code).toBe(0);
    expect(out).toContain('inconsistent users: none');
    const examples = unsalted.map((user) => user.legacyId).sort().join(', ');
    expect(out).toContain(`WARNING unsalted-fast-hash: 3 waiting users (e.g. ${examples})`);
    expect(out).toContain('  what to do: their hashes (md4/md5/sha*/LDAP {MD5}/{SHA}, or HMAC with one key for everyone) are cracked in bulk if this table leaks');
    // No hash value is printed.
    expect(out).not.toContain('cg7f42jH');
    expect(out).not.toContain(Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64'));

    const json = JSON.parse((await cli('src/cli/legacy-status.ts', ['--json'])).out) as { warnings: Array<{ kind: string; count: number }> };
    expect(json.warnings).toEqual([expect.objectContaining({ kind: 'unsalted-fast-hash', count: 3 })]);
  });

  it('a clean population exits 0 and says so', async () => {
    await legacy();
    const { code, out } = await cli('src/cli/legacy-status.ts', []);
    expect(code).toBe(0);
    expect(out).toContain('legacy users: 0 of 1 migrated (0%), 1 still waiting');
    expect(out).toContain('inconsistent users: none');
  });
});

describe('npm run legacy:finish', () => {
  it('dry run, apply, re-run: imports who never logged in with their hashes, links them, refuses what Auth0 cannot import, then retires the scripts', async () => {
    expect((await deployConnection()).code).toBe(0);
    const connection = [...mgmt.connections.values()][0]!;
    const users = await Promise.all((['bcrypt', 'argon2id', 'scrypt', 'pbkdf2-sha256-django'] as const).map((encoding) => legacy(encoding)));
    // One who logged in meanwhile: Auth0 already holds them.
    const meanwhile = await legacy('bcrypt');
    mgmt.users.push({ user_id: meanwhile.auth0Id, email: meanwhile.email, updated_at: new Date().toISOString() });
    // A hash written by another tool, not by legacy:import: a bare hex digest, which could be md4, md5 or an HMAC.
    const md5 = await legacy();
    await sql(`UPDATE users SET password_hash = '5f4dcc3b5aa765d61d8327deb882cf99' WHERE auth0_id = $1`, [md5.auth0Id]);
    const rowsBefore = await sql(`SELECT id, auth0_id FROM users ORDER BY id`);

    const dry = await cli('src/cli/legacy-finish.ts', []);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('6 legacy users never logged in: 5 can be imported with their hashes, 1 cannot');
    expect(dry.out).toContain(`refused ${md5.legacyId}: unreadable hash, re-import it with legacy:import (a string form or an Auth0 custom_password_hash object): password_hash is not bcrypt`);
    expect(dry.out).toContain('dry run: nothing was sent or changed');
    expect(mgmt.importJobs.size).toBe(0);
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE migrated_at IS NOT NULL`)).toEqual([{ n: 0 }]);

    const apply = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(apply.code).toBe(0);
    expect(apply.out).toContain('job 1: 5 users sent, 4 imported, 1 already in Auth0, 0 failed; 5 linked');
    expect(apply.out).toContain('1 legacy users are still waiting: the connection\'s scripts stay');
    const [job] = [...mgmt.importJobs.values()];
    expect(job).toMatchObject({ connection_id: connection.id, upsert: false });
    const sent = new Map(job!.users.map((user) => [user.user_id as string, user]));
    expect((sent.get(users[0]!.legacyId)!.custom_password_hash as { algorithm: string }).algorithm).toBe('bcrypt');
    expect(sent.get(users[1]!.legacyId)!.custom_password_hash).toMatchObject({ algorithm: 'argon2', hash: { encoding: 'utf8', value: expect.stringMatching(/^\$argon2id\$/) } });
    expect(sent.get(users[2]!.legacyId)!.custom_password_hash).toMatchObject({ algorithm: 'scrypt', salt: { encoding: 'base64' }, cost: 1024, blockSize: 8, parallelization: 1, keylen: 32 });
    expect(sent.get(users[3]!.legacyId)!.custom_password_hash).toMatchObject({ algorithm: 'pbkdf2', hash: { encoding: 'utf8', value: expect.stringMatching(/^\$pbkdf2-sha256\$i=1000,l=32\$/) } });
    expect(sent.get(users[0]!.legacyId)).toMatchObject({ email: users[0]!.email, email_verified: true, name: 'Legacy Person', user_metadata: { theme: 'dark' }, app_metadata: { plan: 'gold' } });
    expect(sent.has(md5.legacyId)).toBe(false);

    const linked = await sql<{ auth0_id: string; password_hash: string | null; linked: boolean }>(`SELECT auth0_id, password_hash, migrated_at IS NOT NULL AS linked FROM users WHERE legacy_id IS NOT NULL ORDER BY auth0_id`);
    for (const row of linked) {
      const expected = row.auth0_id === md5.auth0Id ? { linked: false, hashErased: false } : { linked: true, hashErased: true };
      expect({ auth0Id: row.auth0_id, linked: row.linked, hashErased: row.password_hash === null }).toEqual({ auth0Id: row.auth0_id, ...expected });
    }
    // Same rows, same ids: transactions untouched.
    expect(await sql(`SELECT id, auth0_id FROM users ORDER BY id`)).toEqual(rowsBefore);
    expect(await sql(`SELECT count(*)::int AS n FROM transactions`)).toEqual([{ n: 12 }]);
    expect((connection.options.customScripts as Record<string, string>).login).not.toBe(NO_OP_SCRIPTS.login);

    // The refused user is dealt with (here: deleted in Auth0's sense); the re-run imports nothing more and retires the scripts.
    await sql(`UPDATE users SET deleted_at = now() WHERE auth0_id = $1`, [md5.auth0Id]);
    const rerun = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(rerun.code).toBe(0);
    expect(rerun.out).toContain('0 legacy users never logged in');
    expect(rerun.out).toContain("switched the connection's Login and Get User scripts to no-ops (import mode stays on)");
    expect(mgmt.importJobs.size).toBe(1);
    expect(mgmt.connections.get(connection.id)!.options).toMatchObject({ import_mode: true, customScripts: NO_OP_SCRIPTS, configuration: { CLIENT_ID: 'scripts-client-id' } });

    const again = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(again.out).toContain("the connection's scripts are already no-ops");
    expect(mgmt.importJobs.size).toBe(1);
  });

  it('--apply without the connection deployed says how to deploy it, and changes nothing', async () => {
    const user = await legacy();
    const result = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('no database connection named "legacy-db": deploy it with npm run action:deploy -- --legacy-connection legacy-db');
    expect(await sql(`SELECT migrated_at FROM users WHERE auth0_id = $1`, [user.auth0Id])).toEqual([{ migrated_at: null }]);
  });

  it('a 429 on the job creation is retried by the SDK with the same file, and the users are imported and linked once', async () => {
    expect((await deployConnection()).code).toBe(0);
    const user = await legacy('bcrypt');
    mgmt.failRequests('/jobs/users-imports', 429, { 'retry-after': '0' }, 1);
    const result = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('job 1: 1 users sent, 1 imported, 0 already in Auth0, 0 failed; 1 linked');
    expect(mgmt.calls.filter((call) => call.path === '/api/v2/jobs/users-imports')).toHaveLength(2);
    expect(mgmt.importJobs.size).toBe(1);
    expect(mgmt.users.filter((candidate) => candidate.user_id === user.auth0Id)).toHaveLength(1);
    expect(await sql(`SELECT password_hash, migrated_at IS NOT NULL AS linked FROM users WHERE auth0_id = $1`, [user.auth0Id])).toEqual([{ password_hash: null, linked: true }]);
  });
});
