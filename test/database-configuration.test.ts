// A wrong password or a missing database in DATABASE_URL is a configuration error: said as such, not ready, retried slowly.
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { adminDatabaseUrl, databaseUrl, withAdminClient } from './support/database';
import { freePort } from './support/free-port';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from './support/issuer';
import { startServerProcess, type ServerProcess } from './support/server-process';

// Each test starts real servers and Postgres; on a loaded 2-core machine one start takes tens of seconds.
const PROCESS_TEST_TIMEOUT_MS = 240_000;

interface LogLine {
  level: number;
  msg: string;
  attempt?: number;
  retryInMs?: number;
  sqlstate?: string;
  database?: string;
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

function configurationErrors(server: ServerProcess): LogLine[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.msg.startsWith('database configuration error'));
}

async function startServer(databaseUrlToUse: string): Promise<{ server: ServerProcess; port: number }> {
  const port = await freePort();
  const server = startServerProcess({
    PORT: String(port),
    DATABASE_URL: databaseUrlToUse,
    AUTH0_ISSUER_BASE_URL: issuer.url,
    AUTH0_AUDIENCE: TEST_AUDIENCE,
    DATABASE_RETRY_MAX_MS: '1000',
  });
  return { server, port };
}

describe('DATABASE_URL with a configuration error', () => {
  it('a wrong password is logged as a configuration error without the password, /readyz stays 503, and the server becomes ready once the password is right', async () => {
    const suffix = randomBytes(6).toString('hex');
    const role = `config_${suffix}`;
    const givenPassword = `given-${randomBytes(12).toString('hex')}`;
    await withAdminClient(async (client) => {
      await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'the-real-one-${suffix}'`);
      await client.query(`CREATE DATABASE ${role} OWNER ${role}`);
    });
    const url = new URL(databaseUrl(role));
    url.username = role;
    url.password = givenPassword;
    const { server, port } = await startServer(url.toString());
    try {
      await server.waitForOutput(/"attempt":2,[^\n]*database configuration error/, 120_000);
      const [first, second] = configurationErrors(server);
      expect(first).toMatchObject({ level: 50, attempt: 1, retryInMs: 1000, sqlstate: '28P01', database: `${role}@${url.host}/${role}` });
      expect(first!.msg).toBe(`database configuration error (check DATABASE_URL): password authentication failed for user "${role}"; not ready, retrying`);
      expect(second).toMatchObject({ attempt: 2, sqlstate: '28P01' });
      expect(server.output()).not.toContain('database unreachable');
      expect((await supertest(`http://127.0.0.1:${port}`).get('/readyz')).status).toBe(503);

      // Fixed without a restart: the next slow retry gets in.
      await withAdminClient((client) => client.query(`ALTER ROLE ${role} PASSWORD '${givenPassword}'`));
      await server.waitForOutput(/GraphQL API ready/, 120_000);
      expect((await supertest(`http://127.0.0.1:${port}`).get('/readyz')).status).toBe(200);
      expect(server.output()).not.toContain(givenPassword);
      expect(server.output()).not.toContain(`the-real-one-${suffix}`);
    } finally {
      server.signal('SIGTERM');
      await server.exited;
      await withAdminClient(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`);
        await client.query(`DROP ROLE IF EXISTS ${role}`);
      });
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a database that does not exist is a configuration error, and the server becomes ready once it is created', async () => {
    const name = `missing_${randomBytes(6).toString('hex')}`;
    const { server, port } = await startServer(databaseUrl(name));
    try {
      await server.waitForOutput(/database configuration error/, 120_000);
      const [first] = configurationErrors(server);
      expect(first).toMatchObject({ level: 50, attempt: 1, retryInMs: 1000, sqlstate: '3D000' });
      expect(first!.msg).toBe(`database configuration error (check DATABASE_URL): database "${name}" does not exist; not ready, retrying`);
      expect((await supertest(`http://127.0.0.1:${port}`).get('/readyz')).status).toBe(503);
      expect(server.output()).not.toContain(new URL(adminDatabaseUrl()).password);

      await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
      await server.waitForOutput(/GraphQL API ready/, 120_000);
      expect((await supertest(`http://127.0.0.1:${port}`).get('/readyz')).status).toBe(200);
    } finally {
      server.signal('SIGTERM');
      await server.exited;
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});
