// Health, readiness, request ids, redacted logs, and errors that never leak internals.
import { randomUUID } from 'node:crypto';
import { graphql } from './support/graphql';
import { createTestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { createLogger } from '../src/logger';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const parsedLogs = (logs: string[]) => logs.map((line) => JSON.parse(line) as Record<string, any>);

describe('health and readiness', () => {
  it('GET /healthz answers 200 while the process is up', async () => {
    const response = await server.request().get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when the database answers', async () => {
    const response = await server.request().get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ready', writeBack: { status: 'off' } });
  });

  it('GET /readyz answers 503 when the database does not answer, while /healthz stays 200', async () => {
    const unreachable = `postgresql://nobody:nothing@127.0.0.1:${await freePort()}/none`;
    const orphan = await startTestServer({ env: { DATABASE_URL: unreachable }, database: { name: 'none', url: unreachable, drop: async () => {} } });
    try {
      expect((await orphan.request().get('/readyz')).status).toBe(503);
      expect((await orphan.request().get('/healthz')).status).toBe(200);
    } finally {
      await orphan.close();
    }
  });
});

describe('request ids and logs', () => {
  it('answers with a request id, keeps a sane one the caller sent, and logs each request under it', async () => {
    const generated = await server.request().get('/healthz');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const given = `trace-${randomUUID()}`;
    const token = await server.machineToken();
    const response = await server.request().post('/graphql').set('authorization', `Bearer ${token}`).set('x-request-id', given).send({ query: '{ viewer { kind } }' });
    expect(response.headers['x-request-id']).toBe(given);
    expect(parsedLogs(server.logs).some((entry) => entry.req?.id === given && entry.res?.statusCode === 200)).toBe(true);

    const hostile = await server.request().get('/healthz').set('x-request-id', 'bad id with spaces {"<script>"}');
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs no request headers, so neither the authorization header nor a token reaches the logs', async () => {
    const token = await server.machineToken(['create:users']);
    await graphql(server, { query: ADD_USER, variables: { input: { auth0Id: `auth0|${randomUUID()}` } }, token });
    await graphql(server, { query: ADD_USER, variables: { input: { auth0Id: `auth0|${randomUUID()}` } }, token: 'garbage-token-value' });

    const entries = parsedLogs(server.logs).filter((entry) => entry.req?.url === '/graphql');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(entries.every((entry) => entry.req.headers === undefined)).toBe(true);
    const all = server.logs.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('garbage-token-value');
  });
});

describe('the logger', () => {
  it('redacts credentials wherever a log line carries them', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', pretty: false }, { write: (line: string) => void lines.push(line) });
    logger.info({ req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' } }, body: { client_secret: 's3cr3t', access_token: 'tok' }, tokenInfo: { token: 'raw' } }, 'something');
    const text = lines.join('');
    for (const secret of ['abc.def.ghi', 'sid=1', 's3cr3t', '"tok"', '"raw"']) expect(text).not.toContain(secret);
    expect(text.match(/\[redacted\]/g)).toHaveLength(5);
  });
});

describe('errors', () => {
  it('answers an internal failure with a fixed code and no stack trace or SQL, and logs it with the request id', async () => {
    // A database without the tables: the upsert fails inside Postgres.
    const bare = await createTestDatabase({ migrate: false });
    const broken = await startTestServer({ database: bare });
    try {
      const token = await broken.machineToken(['create:users']);
      const response = await graphql(broken, { query: ADD_USER, variables: { input: { auth0Id: `auth0|${randomUUID()}` } }, token });
      expect(response.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      const body = JSON.stringify(response.errors);
      expect(body).not.toMatch(/relation|users|INSERT|stack|at /i);
      const logged = parsedLogs(broken.logs).find((entry) => entry.msg === 'unexpected error in a GraphQL request');
      expect(logged?.req?.id ?? logged?.reqId).toBe(response.requestId);
    } finally {
      await broken.close();
      await bare.drop();
    }
  });

  it('answers a body that is not JSON with 400 and a JSON error', async () => {
    const token = await server.machineToken();
    const response = await server.request().post('/graphql').set('authorization', `Bearer ${token}`).set('content-type', 'application/json').send('{"query": ');
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('answers a body over the size limit with 413 without running it', async () => {
    const token = await server.machineToken(['create:users']);
    const auth0Id = `auth0|${randomUUID()}`;
    const response = await server
      .request()
      .post('/graphql')
      .set('authorization', `Bearer ${token}`)
      .send({ query: ADD_USER, variables: { input: { auth0Id }, padding: 'x'.repeat(200_000) } });
    expect(response.status).toBe(413);
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
  });
});
