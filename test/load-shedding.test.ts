// Load the process cannot serve in time is refused at once with 503 + Retry-After, never left to time out.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
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
