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

// Content Format and Content Type are separate settings of a custom webhook stream
// (auth0.com/docs/customize/log-streams/custom-log-streams: "Content Type: the media type of the
// payload"; "Content Format: JSON lines, arrays, or objects"). The Management API takes
// sink.httpContentType as free text (Terraform's auth0_log_stream: `http_content_type`, e.g.
// "application/json") and sink.httpContentFormat as JSONLINES | JSONARRAY | JSONOBJECT (node-auth0
// LogStreamHttpContentFormatEnum). Auth0's own CLI creates `-t "application/json" -f "JSONLINES"`
// (auth0/auth0-cli test/integration/scripts/create-log-stream-http-id.sh).
describe('every Content Format under every Content Type', () => {
  const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/x-ndjson', 'text/plain', 'application/octet-stream'];
  const FORMATS = {
    JSONLINES: (events: object[]) => events.map((item) => JSON.stringify(item)).join('\n'),
    JSONARRAY: (events: object[]) => JSON.stringify(events),
    // One event per request: the object itself, on one line or pretty-printed.
    JSONOBJECT: (events: object[]) => JSON.stringify(events[0], null, 2),
  };
  const cases = CONTENT_TYPES.flatMap((contentType) => Object.keys(FORMATS).map((format) => [format, contentType] as [keyof typeof FORMATS, string]));

  it.each(cases)('%s sent as %s is applied', async (format, contentType) => {
    const first = `auth0|${randomUUID()}`;
    const second = `auth0|${randomUUID()}`;
    const events = [event('ss', first, '2026-11-06T10:00:00.000Z', { user_name: 'a@example.com' }), event('ss', second, '2026-11-06T10:01:00.000Z')];
    const expected = format === 'JSONOBJECT' ? 1 : 2;
    const response = await server.request().post('/webhooks/auth0-logs').set('authorization', TOKEN).set('content-type', contentType).send(FORMATS[format](events));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ applied: expected, duplicates: 0, ignored: 0, invalid: 0 });
    expect(await userRow(first)).not.toBeNull();
    expect(await userRow(second)).toEqual(format === 'JSONOBJECT' ? null : expect.objectContaining({ auth0Id: second }));
  });

  it('a JSON lines body with one broken line applies the other lines and counts the broken one invalid', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const body = [JSON.stringify(event('ss', auth0Id, '2026-11-06T11:00:00.000Z')), '{"log_id": "cut off', ''].join('\n');
    const response = await server.request().post('/webhooks/auth0-logs').set('authorization', TOKEN).set('content-type', 'application/json').send(body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 1 });
  });

  it('a body that is no JSON at all is refused with 400 and changes nothing', async () => {
    const response = await server.request().post('/webhooks/auth0-logs').set('authorization', TOKEN).set('content-type', 'application/json').send('not json\nat all');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/JSON/);
  });
});

// Real codes from auth0.com/docs/deploy-monitor/logs/log-event-type-codes: many are longer than 16
// characters, and machine-to-machine events (seccft: a client credentials exchange, as an Action's
// own token request) carry `user_id: ""`.
it('long event type codes and machine-to-machine events with an empty user_id are recorded and ignored, not invalid', async () => {
  const longCodes = ['actions_execution_failed', 'api_limit_warning', 'ciba_exchange_succeeded', 'appliance_configuration_api_status'];
  const batch = [...longCodes.map((type) => event(type, `auth0|${randomUUID()}`, '2026-11-07T10:00:00.000Z')), event('seccft', '', '2026-11-07T10:00:01.000Z'), event('fsa', '', '2026-11-07T10:00:02.000Z')];
  const response = await post(batch);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ applied: 0, duplicates: 0, ignored: 6, invalid: 0 });
  const stored = await server.prisma.auth0LogEvent.findMany({ where: { logId: { in: batch.map((item) => item.log_id) } } });
  expect(stored.map((row) => row.type).sort()).toEqual([...longCodes, 'fsa', 'seccft'].sort());
  expect(stored.find((row) => row.type === 'seccft')!.userId).toBeNull();
  expect((await post(batch)).body).toEqual({ applied: 0, duplicates: 6, ignored: 0, invalid: 0 });
});

it('what really is invalid stays invalid: a sign-up without a user, a deletion of a malformed id, an event without a date', async () => {
  const response = await post([
    event('ss', '', '2026-11-07T11:00:00.000Z'),
    event('sdu', 'no-provider-here', '2026-11-07T11:00:00.000Z'),
    { log_id: `9002${randomUUID()}`, data: { type: 's', user_id: `auth0|${randomUUID()}` } },
  ]);
  expect(response.body).toEqual({ applied: 0, duplicates: 0, ignored: 0, invalid: 3 });
});

describe('the bound on one request', () => {
  it('takes 1,000 events in one request and refuses 1,001 with 413, applying none of them', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => event('fp', `auth0|${randomUUID()}`, new Date(Date.UTC(2026, 10, 8) + i).toISOString()));
    const tooMany = many(1001);
    const refused = await post(tooMany);
    expect(refused.status).toBe(413);
    expect(refused.body.error).toContain('at most 1000 events');
    expect(await server.prisma.auth0LogEvent.count({ where: { logId: { in: tooMany.map((item) => item.log_id) } } })).toBe(0);

    const accepted = await post(many(1000));
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ applied: 0, duplicates: 0, ignored: 1000, invalid: 0 });
  });
});

// Postgres cannot store U+0000 in text ("invalid byte sequence for encoding UTF8: 0x00").
it('an event with a NUL byte is counted invalid and the rest of the batch is applied with 200', async () => {
  const good = `auth0|${randomUUID()}`;
  const response = await post([
    event('ss', `auth0|${randomUUID()}\u0000x`, '2026-11-09T10:00:00.000Z'),
    event('sdu', `auth0|nul\u0000`, '2026-11-09T10:00:00.000Z'),
    { ...event('ss', `auth0|${randomUUID()}`, '2026-11-09T10:00:00.000Z'), log_id: `9002\u0000${randomUUID()}`.slice(0, 40) },
    event('ss', `auth0|${randomUUID()}`, '2026-11-09T10:00:00.000Z', { connection: 'Username\u0000Password' }),
    event('fp', `auth0|${randomUUID()}`, '2026-11-09T10:00:00.000Z', { type: 'f\u0000p' }),
    event('ss', good, '2026-11-09T10:00:00.000Z', { user_name: 'fine@example.com' }),
  ]);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 5 });
  expect(await userRow(good)).toMatchObject({ email: 'fine@example.com' });
});

// ISO 8601 allows year 0000, which Postgres refuses ("date/time field value out of range"), as it
// refuses 0001-01-01T00:00:00+01:00 (the last hour of 1 BC in UTC).
it('an event dated before year 1 is counted invalid and the rest of the batch is applied with 200', async () => {
  const good = `auth0|${randomUUID()}`;
  const response = await post([
    event('ss', `auth0|${randomUUID()}`, '0000-01-01T00:00:00Z'),
    event('fp', `auth0|${randomUUID()}`, '0001-01-01T00:00:00+01:00'),
    event('ss', good, '2026-11-09T10:00:00.000Z', { user_name: 'fine@example.com' }),
  ]);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 2 });
  expect(await userRow(good)).toMatchObject({ email: 'fine@example.com' });
});

// Whatever else Postgres refuses to store (a data exception or a constraint the validation does not
// know of, here a CHECK added for the test) costs that one event, not a 500 that Auth0 resends forever.
it('an event Postgres refuses to store is counted invalid and the rest of the batch is applied with 200', async () => {
  await server.prisma.$executeRawUnsafe(`ALTER TABLE auth0_log_events ADD CONSTRAINT test_refused_type CHECK (type <> 'refused_by_postgres')`);
  try {
    const good = `auth0|${randomUUID()}`;
    const response = await post([event('refused_by_postgres', `auth0|${randomUUID()}`, '2026-11-10T10:00:00.000Z'), event('ss', good, '2026-11-10T10:00:00.000Z')]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 0, invalid: 1 });
    expect(await userRow(good)).not.toBeNull();
  } finally {
    await server.prisma.$executeRawUnsafe(`ALTER TABLE auth0_log_events DROP CONSTRAINT test_refused_type`);
  }
});
