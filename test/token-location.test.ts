// A token is taken from one Authorization header only: never from the URL or a form body, never from two headers, never logged.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id } } }';
const ME = '{ me { id } }';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const rowsFor = (auth0Id: string) => server.prisma.user.count({ where: { auth0Id } });

function expectInvalidRequest(response: { status: number; headers: Record<string, string | string[] | undefined>; body?: unknown }) {
  expect(response.status).toBe(400);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request", error_description="[^"]+"$/);
}

describe('a token anywhere but the Authorization header is refused and nothing is done', () => {
  it('a valid M2M token in the query string gets 400 invalid_request and creates no user', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const token = await server.machineToken(['create:users']);
    const response = await server.request().post(`/graphql?access_token=${token}`).set('content-type', 'application/json').send({ query: ADD_USER, variables: { input: { auth0Id } } });
    expectInvalidRequest(response);
    expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(response.body.data).toBeUndefined();
    expect(await rowsFor(auth0Id)).toBe(0);
  });

  it('a valid user token in the query string cannot provision the user through me', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const token = await server.userToken(auth0Id);
    const response = await server.request().post('/graphql').query({ access_token: token }).set('content-type', 'application/json').send({ query: ME });
    expectInvalidRequest(response);
    expect(await rowsFor(auth0Id)).toBe(0);
  });

  it('a token in the query string is refused even beside a valid Authorization header, whatever the parameter\'s case', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const token = await server.machineToken(['create:users']);
    const response = await server
      .request()
      .post(`/graphql?Access_Token=${token}`)
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send({ query: ADD_USER, variables: { input: { auth0Id } } });
    expectInvalidRequest(response);
    expect(await rowsFor(auth0Id)).toBe(0);
  });

  it('a token in a form body gets 401 and creates no user', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const token = await server.machineToken(['create:users']);
    const response = await server
      .request()
      .post('/graphql')
      .set('content-type', 'application/x-www-form-urlencoded')
      .set('apollo-require-preflight', 'true')
      .send(new URLSearchParams({ access_token: token, query: ADD_USER, variables: JSON.stringify({ input: { auth0Id } }) }).toString());
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(await rowsFor(auth0Id)).toBe(0);
  });
});

describe('no log line holds a token or another secret from a URL', () => {
  it('the request log keeps the path and drops the query, whatever the route and the answer', async () => {
    const token = await server.machineToken(['create:users']);
    const secret = `s3cr3t-${randomUUID()}`;
    const sent: Array<Promise<unknown>> = [
      server.request().post(`/graphql?access_token=${token}`).send({ query: ME }),
      server.request().post(`/graphql?client_secret=${secret}`).set('authorization', `Bearer ${token}`).send({ query: '{ viewer { kind } }' }),
      server.request().get(`/graphql?query=${encodeURIComponent('{ viewer { kind } }')}&access_token=${token}`),
      server.request().get(`/healthz?password=${secret}`),
      server.request().get(`/readyz?access_token=${token}`),
      server.request().get(`/nowhere/${token}?code=${secret}`),
      server.request().post(`/graphql/${token}`).set('authorization', `Bearer ${token}`).send({ query: '{ viewer { kind } }' }),
    ];
    const logsBefore = server.logs.length;
    await Promise.all(sent);
    const lines = server.logs.slice(logsBefore);
    // One request line each, at least (/healthz and /readyz are logged when they carry a query).
    expect(lines.filter((line) => line.includes('"msg":"request completed"') || line.includes('"msg":"request errored"')).length).toBeGreaterThanOrEqual(sent.length);
    const [header, payload, signature] = token.split('.');
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(payload);
      expect(line).not.toContain(signature);
      expect(line).not.toContain(header);
    }
    const urls = lines.map((line) => (JSON.parse(line) as { req?: { url?: string } }).req?.url).filter(Boolean);
    expect(urls).toEqual(expect.arrayContaining(['/graphql?[redacted]', '/healthz?[redacted]', '/nowhere/[redacted]?[redacted]', '/graphql/[redacted]']));
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as written (two Authorization headers stay two) and reads the answer until the server closes. */
function rawRequest(url: string, head: string[], body: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [rawHead = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = rawHead.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write([...head, `content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body].join('\r\n'));
  });
}

describe('two Authorization headers', () => {
  const post = (auth0Id: string, authorizations: string[]) =>
    rawRequest(
      server.graphqlUrl,
      [`POST /graphql HTTP/1.1`, `host: ${new URL(server.url).host}`, 'content-type: application/json', ...authorizations.map((value) => `authorization: ${value}`)],
      JSON.stringify({ query: ADD_USER, variables: { input: { auth0Id } } }),
    );

  it('one header with a valid token creates the user (the raw client works)', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const response = await post(auth0Id, [`Bearer ${await server.machineToken(['create:users'])}`]);
    expect(response.status).toBe(200);
    expect(await rowsFor(auth0Id)).toBe(1);
  });

  it.each([
    ['a valid token first, a bad one second', async () => [`Bearer ${await server.machineToken(['create:users'])}`, 'Bearer not-a-token']],
    ['a bad token first, a valid one second', async () => ['Bearer not-a-token', `Bearer ${await server.machineToken(['create:users'])}`]],
    ['the same valid token twice', async () => {
      const token = await server.machineToken(['create:users']);
      return [`Bearer ${token}`, `Bearer ${token}`];
    }],
  ])('%s: 400 invalid_request and nothing written', async (_label, headers) => {
    const auth0Id = `auth0|${randomUUID()}`;
    const response = await post(auth0Id, await headers());
    expectInvalidRequest(response);
    expect(JSON.parse(response.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await rowsFor(auth0Id)).toBe(0);
  });
});
