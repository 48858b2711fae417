// Load the process cannot serve in time is refused at once with 503 + Retry-After, never left to time out.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { withClient } from './support/database';
import { graphql, type GraphQLResponse } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/wait-until';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created } }';

let server: TestServer;
let token: string;
let locker: Client;
beforeAll(async () => {
  // One request at a time, one more may wait; the held statement must not be cancelled meanwhile.
  server = await startTestServer({ env: { HTTP_MAX_IN_FLIGHT: '1', HTTP_MAX_QUEUE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '600000' } });
  token = await server.machineToken(['create:users']);
  locker = new Client({ connectionString: server.database.url });
  await locker.connect();
});
afterAll(async () => {
  await locker.end();
  await server.close();
});

const addUser = (auth0Id: string) => graphql(server, { query: ADD_USER, variables: { input: { auth0Id } }, token });

// Polled from a connection of its own: inside the locker's transaction pg_stat_activity is a frozen snapshot.
const waitUntilAddUserWaitsOnTheLock = () =>
  waitUntil(() =>
    withClient(server.database.url, async (monitor) => {
      const { rowCount } = await monitor.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO users%'");
      return rowCount === 1;
    }),
  );

/** Holds every addUser on a table lock until `release` is called; resolves once one is waiting on it. */
async function holdAddUsers(): Promise<{ held: Promise<GraphQLResponse<unknown>>; auth0Id: string; release: () => Promise<void> }> {
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  const auth0Id = `google-oauth2|${randomUUID()}`;
  const held = addUser(auth0Id);
  await waitUntilAddUserWaitsOnTheLock();
  return { held, auth0Id, release: () => locker.query('COMMIT').then(() => undefined) };
}

it('answers 503 with Retry-After at once when the queue is full, and serves the queued request once capacity frees', async () => {
  const { held, release } = await holdAddUsers();
  const queuedOrRefused = [`google-oauth2|${randomUUID()}`, `google-oauth2|${randomUUID()}`];
  const answers = queuedOrRefused.map(addUser);
  // One of the two waits in the queue; the other finds it full and is refused while the first is still held.
  const refused = await Promise.race(answers);
  expect(refused.status).toBe(503);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');

  await release();
  expect((await held).status).toBe(200);
  const statuses = (await Promise.all(answers)).map((answer) => answer.status).sort();
  expect(statuses).toEqual([200, 503]);
  const stored = await server.prisma.user.count({ where: { auth0Id: { in: queuedOrRefused } } });
  expect(stored).toBe(1);
});

it('refuses a queued request that waited longer than the queue timeout, and writes nothing for it', async () => {
  const impatient = await startTestServer({ database: server.database, env: { HTTP_MAX_IN_FLIGHT: '1', HTTP_MAX_QUEUE: '10', HTTP_QUEUE_TIMEOUT_MS: '1', DATABASE_STATEMENT_TIMEOUT_MS: '600000' } });
  try {
    const impatientToken = await impatient.machineToken(['create:users']);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const heldId = `google-oauth2|${randomUUID()}`;
    const held = graphql(impatient, { query: ADD_USER, variables: { input: { auth0Id: heldId } }, token: impatientToken });
    await waitUntilAddUserWaitsOnTheLock();
    const lateId = `google-oauth2|${randomUUID()}`;
    const late = await graphql(impatient, { query: ADD_USER, variables: { input: { auth0Id: lateId } }, token: impatientToken });
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toBeDefined();
    await locker.query('COMMIT');
    expect((await held).status).toBe(200);
    expect(await impatient.prisma.user.count({ where: { auth0Id: lateId } })).toBe(0);
  } finally {
    await impatient.close();
  }
});

interface Trickle {
  /** Bytes of the request written so far. */
  sent: () => number;
  /** Everything the server sent back, once it closed the connection. */
  answer: Promise<string>;
}

/**
 * Writes a request one byte at a time on a real socket, the way a slow or hostile client does, until
 * the server closes the connection. `headers` is sent at once and `slowPart` byte by byte.
 */
function trickle(url: string, headers: string, slowPart: string, byteEveryMs: number): Trickle {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let sent = 0;
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(headers, () => (sent += Buffer.byteLength(headers)));
  const timer = setInterval(() => {
    if (sent - Buffer.byteLength(headers) >= slowPart.length || socket.destroyed) return clearInterval(timer);
    socket.write(slowPart[sent - Buffer.byteLength(headers)]!, () => (sent += 1));
  }, byteEveryMs);
  const answer = new Promise<string>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
  return { sent: () => sent, answer };
}

it('serves other requests while clients trickle their bodies, and answers the slow ones 408 once the request timeout passes', async () => {
  // Four slots: the four slow bodies would take them all, and no request may wait for one.
  const slowBodies = await startTestServer({
    database: server.database,
    env: { HTTP_MAX_IN_FLIGHT: '4', HTTP_MAX_QUEUE: '0', HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '4000' },
  });
  try {
    const userToken = await slowBodies.userToken(`auth0|${randomUUID()}`);
    const body = JSON.stringify({ query: '{ me { id } }', pad: 'x'.repeat(200) });
    const head = `POST /graphql HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${userToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    // At 5 bytes a second a body takes about 45 s; Node's own request timeout is 300 s.
    const slow = Array.from({ length: 4 }, () => trickle(slowBodies.url, head, body, 200));
    // A client that trickles its headers instead is cut off at the headers timeout.
    const slowHeaders = trickle(slowBodies.url, '', head, 200);
    // Each slow request has sent its headers and is into its body: past every check before the body.
    await waitUntil(async () => slow.every((request) => request.sent() >= Buffer.byteLength(head) + 3));

    const served = await Promise.all(Array.from({ length: 4 }, () => graphql(slowBodies, { query: '{ viewer { kind } }', token: userToken })));
    expect(served.map((response) => response.status)).toEqual(Array(4).fill(200));

    for (const request of [...slow, slowHeaders]) {
      const answer = await request.answer;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    }
    // Closed long before a body could have been sent whole.
    expect(slow.every((request) => request.sent() < Buffer.byteLength(head) + Buffer.byteLength(body))).toBe(true);
  } finally {
    await slowBodies.close();
  }
}, 30_000);

it('refuses to start with a headers timeout longer than the request timeout, naming the setting', () => {
  expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '6000', HTTP_REQUEST_TIMEOUT_MS: '5000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS/);
  expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '5000' }).http).toMatchObject({ headersTimeoutMs: 5000, requestTimeoutMs: 5000 });
});
