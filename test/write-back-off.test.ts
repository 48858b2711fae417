// A server without the Management API settings: write-backs refused for good (not "retry later"), and SQL changes said to wait.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { expectError } from './support/graphql';
import { startServerProcess } from './support/server-process';
import { startTestServer, type TestServer } from './support/server';

const UPDATE_USER = `mutation ($id: String!, $input: UpdateUserInput!) { updateUser(auth0Id: $id, input: $input) { auth0Id name } }`;
const DELETE_USER = `mutation ($id: String!) { deleteUser(auth0Id: $id) { auth0Id } }`;
const ALL_THREE = ['AUTH0_DOMAIN', 'AUTH0_MGMT_CLIENT_ID', 'AUTH0_MGMT_CLIENT_SECRET'];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function seedUser(): Promise<string> {
  const auth0Id = `auth0|${randomUUID()}`;
  await server.prisma.user.create({ data: { auth0Id, name: 'Ada' } });
  return auth0Id;
}

describe('write-back without the Management API settings', () => {
  it('updateUser answers WRITE_BACK_NOT_CONFIGURED with 501 and no Retry-After, names all three missing settings, and changes nothing', async () => {
    const auth0Id = await seedUser();
    const token = await server.machineToken(['update:users']);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: auth0Id, input: { name: 'Changed' } }, token }, 'WRITE_BACK_NOT_CONFIGURED');
    expect(error.response.status).toBe(501);
    expect(error.response.headers['retry-after']).toBeUndefined();
    for (const name of ALL_THREE) expect(error.message).toContain(name);
    expect(error.extensions?.missingSettings).toEqual(ALL_THREE);
    expect((await server.prisma.user.findUniqueOrThrow({ where: { auth0Id } })).name).toBe('Ada');
    expect(await server.prisma.userChange.count({ where: { auth0Id } })).toBe(0);
  });

  it('deleteUser is refused the same way, and the user stays', async () => {
    const auth0Id = await seedUser();
    const token = await server.machineToken(['delete:users']);
    const error = await expectError(server, { query: DELETE_USER, variables: { id: auth0Id }, token }, 'WRITE_BACK_NOT_CONFIGURED');
    expect(error.response.status).toBe(501);
    expect((await server.prisma.user.findUniqueOrThrow({ where: { auth0Id } })).deletedAt).toBeNull();
  });

  it('names only the settings that are missing: with AUTH0_DOMAIN set, the two client settings', async () => {
    const withDomain = await startTestServer({ env: { AUTH0_DOMAIN: 'tenant.example.com' }, database: server.database });
    try {
      const error = await expectError(
        withDomain,
        { query: UPDATE_USER, variables: { id: await seedUser(), input: { name: 'Changed' } }, token: await withDomain.machineToken(['update:users']) },
        'WRITE_BACK_NOT_CONFIGURED',
      );
      expect(error.extensions?.missingSettings).toEqual(['AUTH0_MGMT_CLIENT_ID', 'AUTH0_MGMT_CLIENT_SECRET']);
      expect(error.message).not.toContain('AUTH0_DOMAIN');
    } finally {
      await withDomain.close();
    }
  });

  it("an SQL UPDATE that waits unsent shows in /readyz's body, with the settings that would send it", async () => {
    const before = await server.request().get('/readyz').expect(200);
    expect(before.body.writeBack).toEqual({ status: 'off', missingSettings: ALL_THREE, pendingSqlChanges: expect.any(Number) });
    const auth0Id = await seedUser();
    await withClient(server.database.url, (client) => client.query(`UPDATE users SET name = 'By SQL' WHERE auth0_id = $1`, [auth0Id]));
    const after = await server.request().get('/readyz').expect(200);
    expect(after.body.writeBack.pendingSqlChanges).toBe(before.body.writeBack.pendingSqlChanges + 1);
  });
});

describe('start-up without the Management API settings', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('logs that write-back is off, naming the missing settings, and how many SQL changes wait', async () => {
    await withClient(database.url, async (client) => {
      const auth0Id = `auth0|${randomUUID()}`;
      await client.query(`INSERT INTO users (auth0_id, name) VALUES ($1, 'Ada')`, [auth0Id]);
      await client.query(`UPDATE users SET name = 'By SQL' WHERE auth0_id = $1`, [auth0Id]);
    });
    const port = await freePort();
    const process = startServerProcess({ PORT: String(port), DATABASE_URL: database.url, AUTH0_DOMAIN: 'tenant.example.com', AUTH0_AUDIENCE: 'https://api.example.com' });
    try {
      await process.waitForOutput(/1 SQL change\(s\) to users wait/);
      expect(process.output()).toContain('write-back to Auth0 is off: set AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET');
    } finally {
      process.signal('SIGTERM');
      await process.exited;
    }
  });
});
