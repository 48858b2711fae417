// POST /webhooks/auth0-logs: Auth0 Log Streams batches for deletions and sign-ups, idempotent and safe out of order.
import { randomUUID } from 'node:crypto';
import { expectError } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

const TOKEN = `log-stream-${randomUUID()}`;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { AUTH0_LOG_STREAM_TOKEN: TOKEN } });
});
afterAll(() => server.close());

const event = (type: string, userId: string, date: string, extra: Record<string, unknown> = {}) => ({
  log_id: `9002${randomUUID().replace(/-/g, '')}`.slice(0, 56),
  data: { type, date, user_id: userId, client_id: 'abc', ...extra },
});
const post = (body: unknown, authorization = `Bearer ${TOKEN}`) => server.request().post('/webhooks/auth0-logs').set('authorization', authorization).send(body as object);
const userRow = (auth0Id: string) => server.prisma.user.findUnique({ where: { auth0Id } });

it('refuses a wrong or missing secret with 401 and does nothing', async () => {
  const auth0Id = `auth0|${randomUUID()}`;
  const batch = [event('ss', auth0Id, '2026-11-01T10:00:00.000Z', { user_name: 'a@example.com' })];
  expect((await post(batch, 'Bearer wrong-secret')).status).toBe(401);
  expect((await server.request().post('/webhooks/auth0-logs').send(batch)).status).toBe(401);
  expect(await userRow(auth0Id)).toBeNull();
  expect(await server.prisma.auth0LogEvent.count({ where: { logId: batch[0]!.log_id } })).toBe(0);
});

it('a sign-up (ss) creates the user, a login (s) keeps them, other types are ignored', async () => {
  const auth0Id = `google-oauth2|${randomUUID()}`;
  const response = await post([
    event('ss', auth0Id, '2026-11-01T10:00:00.000Z', { user_name: 'new@example.com', connection: 'google-oauth2' }),
    event('s', auth0Id, '2026-11-01T10:05:00.000Z', { user_name: 'new@example.com' }),
    event('fp', auth0Id, '2026-11-01T10:06:00.000Z'),
  ]);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ applied: 2, duplicates: 0, ignored: 1, invalid: 0 });
  expect(await userRow(auth0Id)).toMatchObject({ email: 'new@example.com', connection: 'google-oauth2', deletedAt: null, lastEventAt: new Date('2026-11-01T10:05:00.000Z') });
});

it('a deletion (sdu) marks the user deleted, keeps their data, and their token then gets FORBIDDEN from me', async () => {
  const auth0Id = `auth0|${randomUUID()}`;
  const { id } = await server.prisma.user.create({ data: { auth0Id, email: 'gone@example.com', transactions: { create: { amountMinor: 100n, currency: 'EUR', occurredAt: new Date() } } } });
  expect((await post([event('sdu', auth0Id, '2026-11-02T09:00:00.000Z')])).body).toMatchObject({ applied: 1 });
  expect(await userRow(auth0Id)).toMatchObject({ deletedAt: new Date('2026-11-02T09:00:00.000Z'), email: 'gone@example.com' });
  expect(await server.prisma.transaction.count({ where: { userId: id } })).toBe(1);
  const error = await expectError(server, { query: '{ me { id } }', token: await server.userToken(auth0Id) }, 'FORBIDDEN');
  expect(error.message).toContain('deleted');
});

it('a replayed batch changes nothing', async () => {
  const auth0Id = `auth0|${randomUUID()}`;
  const batch = [event('ss', auth0Id, '2026-11-03T10:00:00.000Z', { user_name: 'replay@example.com' })];
  expect((await post(batch)).body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 0 });
  const before = await userRow(auth0Id);
  expect((await post(batch)).body).toEqual({ applied: 0, duplicates: 1, ignored: 0, invalid: 0 });
  expect(await userRow(auth0Id)).toEqual(before);
});

it('out of order: a deletion before the sign-up leaves the user deleted, and an older login never overwrites newer data', async () => {
  const deleted = `auth0|${randomUUID()}`;
  await post([event('sdu', deleted, '2026-11-04T12:00:00.000Z')]);
  await post([event('ss', deleted, '2026-11-04T11:00:00.000Z', { user_name: 'late@example.com' })]);
  expect(await userRow(deleted)).toMatchObject({ deletedAt: new Date('2026-11-04T12:00:00.000Z'), email: null });

  const active = `auth0|${randomUUID()}`;
  await post([event('s', active, '2026-11-04T12:00:00.000Z', { user_name: 'newer@example.com' })]);
  await post([event('s', active, '2026-11-04T11:00:00.000Z', { user_name: 'older@example.com' })]);
  expect(await userRow(active)).toMatchObject({ email: 'newer@example.com', lastEventAt: new Date('2026-11-04T12:00:00.000Z') });
});

it('accepts JSON lines, counts invalid events without failing the batch, and applies the valid ones', async () => {
  const auth0Id = `auth0|${randomUUID()}`;
  const lines = [JSON.stringify(event('ss', auth0Id, '2026-11-05T10:00:00.000Z')), JSON.stringify({ log_id: 'x', data: { type: 'ss' } }), JSON.stringify({ nothing: true })].join('\n');
  const response = await server.request().post('/webhooks/auth0-logs').set('authorization', TOKEN).set('content-type', 'application/x-ndjson').send(lines);
  expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 2 });
  expect(await userRow(auth0Id)).not.toBeNull();
});

it('is not served when no secret is configured', async () => {
  const plain = await startTestServer();
  try {
    expect((await plain.request().post('/webhooks/auth0-logs').set('authorization', 'Bearer anything').send([])).status).toBe(404);
  } finally {
    await plain.close();
  }
});
