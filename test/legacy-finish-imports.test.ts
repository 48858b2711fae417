// legacy:finish against the Management API stand-in: every hash family sent as Auth0's bulk-import schema says
// (the stand-in checks it with that schema's rules), and a job's errors read in each of their three forms.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createManagementClient } from '../src/auth0-deploy/management-client';
import type { LegacyEncoding } from '../src/modules/legacy/make-legacy-hash';
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

const env = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  DATABASE_URL: database.url,
  LOG_LEVEL: 'warn',
  ...mgmt.env,
  ACTION_CLIENT_ID: 'scripts-client-id',
  ACTION_CLIENT_SECRET: 'scripts-secret',
  AUTH0_AUDIENCE: 'https://api.example.com/',
  ACTION_API_URL: 'https://sync.example.ngrok.app/graphql',
  ACTION_BUILD_POLL_MS: '10',
  LEGACY_FINISH_POLL_MS: '10',
});

async function cli(script: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: env() });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

const deployConnection = () => cli('src/cli/action-deploy.ts', ['--legacy-connection', 'legacy-db']);
const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []) => withClient(database.url, async (client) => (await client.query<T>(text, values)).rows);
const legacy = (encoding: LegacyEncoding = 'bcrypt') => createLegacyUser(database.url, { encoding, transactions: 2 });

describe('legacy:finish sends every hash family as Auth0 imports it', () => {
  it('salted SHA-1 and MD5, unsalted MD5, HMAC, LDAP, argon2i, PBKDF2-SHA1/SHA512 and bcrypt $2y$ pass Auth0\'s checks, are imported and linked', async () => {
    expect((await deployConnection()).code).toBe(0);
    // MD5('salt' + 'password') and HMAC-SHA1 under key hex 736868 of "test" are the examples in Auth0's bulk-import schema.
    const saltedMd5 = { algorithm: 'md5', hash: { value: '67A1E09BB1F83F5007DC119C14D663AA', encoding: 'hex' }, salt: { value: 'salt', encoding: 'utf8', position: 'prefix' } };
    const hmac = { algorithm: 'hmac', hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } } };
    const users = {
      sha1: await legacy('sha1-salted'),
      md5: await createLegacyUser(database.url, { passwordHash: JSON.stringify(saltedMd5) }),
      md5Unsalted: await legacy('md5-unsalted'),
      hmac: await createLegacyUser(database.url, { passwordHash: JSON.stringify(hmac) }),
      ldap: await legacy('ldap-ssha'),
      argon2i: await legacy('argon2i'),
      pbkdf2Sha1: await legacy('pbkdf2-sha1'),
      pbkdf2Sha512: await legacy('pbkdf2-sha512'),
      bcrypt: await legacy('bcrypt'),
    };
    const stored = async (user: { auth0Id: string }) => (await sql<{ password_hash: string }>(`SELECT password_hash FROM users WHERE auth0_id = $1`, [user.auth0Id]))[0]!.password_hash;
    const hashes = Object.fromEntries(await Promise.all(Object.entries(users).map(async ([name, user]) => [name, await stored(user)] as const)));

    const apply = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(apply.out).toContain('9 legacy users never logged in: 9 can be imported with their hashes, 0 cannot');
    expect(apply.out).toContain('job 1: 9 users sent, 9 imported, 0 already in Auth0, 0 failed; 9 linked');
    expect(apply.code).toBe(0);
    const [job] = [...mgmt.importJobs.values()];
    expect(job!.errors).toEqual([]);
    const sent = new Map(job!.users.map((user) => [user.user_id as string, user.custom_password_hash]));
    const sentFor = (user: { legacyId: string }) => sent.get(user.legacyId);
    expect(sentFor(users.sha1)).toEqual(JSON.parse(hashes.sha1!));
    expect(sentFor(users.sha1)).toMatchObject({ algorithm: 'sha1', hash: { encoding: 'hex' }, salt: { encoding: 'utf8', position: 'prefix' } });
    expect(sentFor(users.md5)).toEqual(saltedMd5);
    expect(sentFor(users.md5Unsalted)).toEqual({ algorithm: 'md5', hash: { value: expect.stringMatching(/^[0-9a-f]{32}$/), encoding: 'hex' } });
    expect(sentFor(users.hmac)).toEqual(hmac);
    expect(sentFor(users.ldap)).toEqual({ algorithm: 'ldap', hash: { value: hashes.ldap, encoding: 'utf8' } });
    expect(sentFor(users.argon2i)).toEqual({ algorithm: 'argon2', hash: { value: hashes.argon2i, encoding: 'utf8' } });
    expect(sentFor(users.pbkdf2Sha1)).toEqual({ algorithm: 'pbkdf2', hash: { value: hashes.pbkdf2Sha1, encoding: 'utf8' } });
    expect(sentFor(users.pbkdf2Sha512)).toEqual({ algorithm: 'pbkdf2', hash: { value: expect.stringMatching(/^\$pbkdf2-sha512\$i=1000,l=64\$/), encoding: 'utf8' } });
    expect(sentFor(users.bcrypt)).toEqual({ algorithm: 'bcrypt', hash: { value: hashes.bcrypt!.replace(/^\$2y\$/, '$2b$'), encoding: 'utf8' } });
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE legacy_id IS NOT NULL AND (migrated_at IS NULL OR password_hash IS NOT NULL)`)).toEqual([{ n: 0 }]);
  });

  it('the stand-in refuses a malformed custom_password_hash as Auth0 does: the user is listed with code, message and path', async () => {
    expect((await deployConnection()).code).toBe(0);
    const connection = [...mgmt.connections.values()][0]!;
    const management = createManagementClient({ ...mgmt.env });
    const bad: Array<[string, unknown]> = [
      ['utf8-sha1', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'utf8' } }],
      ['bcrypt-2y', { algorithm: 'bcrypt', hash: { value: `$2y$10$${'a'.repeat(53)}`, encoding: 'utf8' } }],
      ['salt-on-bcrypt', { algorithm: 'bcrypt', hash: { value: '$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K', encoding: 'utf8' }, salt: { value: 'salt', position: 'prefix' } }],
      ['no-position-enum', { algorithm: 'md5', hash: { value: '67a1e09bb1f83f5007dc119c14d663aa', encoding: 'hex' }, salt: { value: 'salt', position: 'before' } }],
      ['pbkdf2-padded', { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000,l=32$c2FsdA==$' + 'A'.repeat(43), encoding: 'utf8' } }],
    ];
    const job = await management.jobs.usersImports.create({
      users: { data: Buffer.from(JSON.stringify(bad.map(([id, hash]) => ({ user_id: id, email: `${id}@legacy.example`, custom_password_hash: hash })))), filename: 'bad.json', contentType: 'application/json' },
      connection_id: connection.id,
      upsert: false,
    });
    const errors = (await management.jobs.errors.get(job.id!)) as Array<{ user: { user_id: string }; errors: Array<{ code: string; message: string; path?: string }> }>;
    expect(errors.map((entry) => [entry.user.user_id, entry.errors.map((error) => [error.code, error.path])])).toEqual([
      ['utf8-sha1', [['INVALID_FORMAT', 'custom_password_hash.hash.encoding']]],
      ['bcrypt-2y', [['INVALID_FORMAT', 'custom_password_hash.hash.value']]],
      ['salt-on-bcrypt', [['INVALID_FORMAT', 'custom_password_hash.salt']]],
      ['no-position-enum', [['ENUM_MISMATCH', 'custom_password_hash.salt.position']]],
      ['pbkdf2-padded', [['INVALID_FORMAT', 'custom_password_hash.hash.value']]],
    ]);
    expect(errors[3]!.errors[0]!.message).toBe('Error in custom_password_hash.salt.position property - No enum match for: "before"');
    expect(mgmt.users).toEqual([]);
  });
});

describe("legacy:finish reads a job's errors in each form Auth0 answers", () => {
  it('204 (no errors): every user sent is imported and linked', async () => {
    expect((await deployConnection()).code).toBe(0);
    const users = [await legacy('sha1-salted'), await legacy('bcrypt')];
    const result = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(result.out).toContain('job 1: 2 users sent, 2 imported, 0 already in Auth0, 0 failed; 2 linked');
    const jobId = [...mgmt.importJobs.keys()][0]!;
    expect(mgmt.calls.filter((call) => call.path === `/api/v2/jobs/${jobId}/errors`)).toHaveLength(1);
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE auth0_id = ANY($1) AND migrated_at IS NOT NULL`, [users.map((user) => user.auth0Id)])).toEqual([{ n: 2 }]);
  });

  it('an array: each listed user is reported with its codes, a DUPLICATED_USER the tenant holds is linked, the rest are linked', async () => {
    expect((await deployConnection()).code).toBe(0);
    const [fresh, meanwhile] = [await legacy('md5-unsalted'), await legacy('ldap-ssha')];
    mgmt.users.push({ user_id: meanwhile.auth0Id, email: meanwhile.email, updated_at: new Date().toISOString() });
    const result = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(result.out).toContain('job 1: 2 users sent, 1 imported, 1 already in Auth0, 0 failed; 2 linked');
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE auth0_id = ANY($1) AND migrated_at IS NOT NULL`, [[fresh.auth0Id, meanwhile.auth0Id]])).toEqual([{ n: 2 }]);
  });

  it('the job object with no failure counted: the users are imported and linked', async () => {
    expect((await deployConnection()).code).toBe(0);
    const users = [await legacy('pbkdf2-sha512'), await legacy('argon2i')];
    mgmt.answerNextImportErrorsWithJob();
    const result = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(result.out).toContain('job 1: 2 users sent, 2 imported, 0 already in Auth0, 0 failed; 2 linked');
    expect(result.code).toBe(0);
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE auth0_id = ANY($1) AND migrated_at IS NOT NULL`, [users.map((user) => user.auth0Id)])).toEqual([{ n: 2 }]);
  });

  it('the job object while the job counts failures: nothing is linked, it says why, and a re-run links everyone', async () => {
    expect((await deployConnection()).code).toBe(0);
    const users = [await legacy('sha1-salted'), await legacy('sha1-salted'), await legacy('bcrypt')];
    mgmt.answerNextImportErrorsWithJob({ reportFailures: 1 });
    const first = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/reports 1 failed users, but Auth0 answered its errors with the job, not the list of users: nothing of this job was linked\. Run legacy:finish --apply again\./);
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE legacy_id IS NOT NULL AND migrated_at IS NOT NULL`)).toEqual([{ n: 0 }]);

    const again = await cli('src/cli/legacy-finish.ts', ['--apply']);
    expect(again.out).toContain('job 1: 3 users sent, 1 imported, 2 already in Auth0, 0 failed; 3 linked');
    expect(again.code).toBe(0);
    expect(await sql(`SELECT count(*)::int AS n FROM users WHERE auth0_id = ANY($1) AND migrated_at IS NOT NULL AND password_hash IS NULL`, [users.map((user) => user.auth0Id)])).toEqual([{ n: 3 }]);
  });
});
