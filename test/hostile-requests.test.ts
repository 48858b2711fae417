// Hostile requests are refused before execution, with a clear error, while normal requests keep working.
import { randomUUID } from 'node:crypto';
import { expectData, graphql, MEDIA_TYPES, REQUEST_ERROR_STATUS } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let user: string;
beforeAll(async () => {
  server = await startTestServer({ env: { GRAPHQL_MAX_DEPTH: '10', GRAPHQL_MAX_ALIASES: '15', GRAPHQL_MAX_TOKENS: '1000', GRAPHQL_MAX_DIRECTIVES: '20', GRAPHQL_MAX_COST: '5000' } });
  user = await server.userToken(`auth0|${randomUUID()}`);
  await expectData(server, { query: '{ me { id } }', token: user });
});
afterAll(() => server.close());

const hostile: Array<[string, string, RegExp, string?]> = [
  ['more aliases than allowed', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { kind }`).join(' ')} }`, /aliases/i],
  ['more tokens than allowed', `{ viewer { ${Array.from({ length: 1100 }, () => 'kind').join(' ')} } }`, /Document contains more th.. 1000 tokens/, 'GRAPHQL_PARSE_FAILED'],
  ['more directives than allowed', `{ viewer { kind ${Array.from({ length: 21 }, () => '@include(if: true)').join(' ')} } }`, /directive/i],
  ['a document over the cost limit', `{ ${Array.from({ length: 15 }, (_, i) => `m${i}: me { transactions(first: 100) { edges { cursor node { id amountMinor currency description occurredAt createdAt } } pageInfo { hasNextPage endCursor } } }`).join(' ')} }`, /cost/i],
];

describe('query limits', () => {
  it('refuses a document deeper than the configured depth before running it', async () => {
    const shallow = await startTestServer({ env: { GRAPHQL_MAX_DEPTH: '4' } });
    try {
      const token = await shallow.machineToken(['read:users', 'read:transactions']);
      const before = shallow.queries.length;
      for (const accept of MEDIA_TYPES) {
        const response = await graphql(shallow, { query: '{ users { edges { node { transactions { edges { node { id } } } } } } }', token, accept });
        expect(response.status).toBe(REQUEST_ERROR_STATUS[accept]);
        expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(response.errors?.[0]?.message).toMatch(/depth/i);
        expect(response.data).toBeUndefined();
      }
      expect(shallow.queries.length).toBe(before);
      // The same query is fine under the default limit.
      await expectData(server, { query: '{ users { edges { node { transactions { edges { node { id } } } } } } }', token: await server.machineToken(['read:users', 'read:transactions']) });
    } finally {
      await shallow.close();
    }
  });

  const hostilePerMediaType = hostile.flatMap(([label, query, message, code = 'GRAPHQL_VALIDATION_FAILED']) => MEDIA_TYPES.map((accept) => [`${label}, accepting ${accept}`, query, message, code, accept] as const));
  it.each(hostilePerMediaType)('refuses %s before running it, and normal requests keep working meanwhile', async (_label, query, message, code, accept) => {
    const before = server.queries.length;
    const [refused, normal] = await Promise.all([graphql(server, { query, token: user, accept }), expectData<{ me: { id: string } }>(server, { query: '{ me { id } }', token: user })]);
    expect(refused.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(refused.errors?.[0]?.extensions?.code).toBe(code);
    expect(refused.errors?.[0]?.message).toMatch(message);
    expect(refused.data).toBeUndefined();
    expect(normal.me.id).toEqual(expect.any(String));
    // Only the normal request reached the database (its user lookup).
    expect(server.queries.length - before).toBe(1);
  });

  it('hides field suggestions in production and shows them in development', async () => {
    const production = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const misspelled = '{ viewr { kind } }';
      const hidden = await graphql(production, { query: misspelled, token: await production.userToken('auth0|x') });
      expect(hidden.errors?.[0]?.message).not.toMatch(/Did you mean/);
      const shown = await graphql(server, { query: misspelled, token: user });
      expect(shown.errors?.[0]?.message).toMatch(/Did you mean "viewer"/);
    } finally {
      await production.close();
    }
  });

  it('turns introspection off in production unless GRAPHQL_INTROSPECTION is true', async () => {
    const introspect = '{ __schema { queryType { name } } }';
    const off = await startTestServer({ env: { NODE_ENV: 'production' } });
    const on = await startTestServer({ env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' } });
    try {
      const refused = await graphql(off, { query: introspect, token: await off.userToken('auth0|x') });
      expect(refused.errors?.[0]?.message).toMatch(/introspection/i);
      const allowed = await expectData<{ __schema: unknown }>(on, { query: introspect, token: await on.userToken('auth0|x') });
      expect(allowed.__schema).toEqual({ queryType: { name: 'Query' } });
    } finally {
      await off.close();
      await on.close();
    }
  });
});

describe('HTTP-level protections', () => {
  it('refuses batched operations', async () => {
    const response = await server.request().post('/graphql').set('authorization', `Bearer ${user}`).send([{ query: '{ viewer { kind } }' }, { query: '{ viewer { kind } }' }]);
    expect(response.status).toBe(400);
  });

  it('keeps CSRF prevention on: a simple cross-site request is refused', async () => {
    const textPlain = await server.request().post('/graphql').set('authorization', `Bearer ${user}`).set('content-type', 'text/plain').send(JSON.stringify({ query: '{ viewer { kind } }' }));
    expect(textPlain.status).toBe(400);
    const simpleGet = await server.request().get('/graphql').query({ query: '{ viewer { kind } }' }).set('authorization', `Bearer ${user}`);
    expect(simpleGet.status).toBe(400);
    expect(simpleGet.text).toMatch(/CSRF/);
  });

  it('refuses a body over the configured size with 413', async () => {
    const small = await startTestServer({ env: { HTTP_BODY_LIMIT: '2kb' } });
    try {
      const response = await small.request().post('/graphql').set('authorization', `Bearer ${await small.userToken('auth0|x')}`).send({ query: '{ viewer { kind } }', variables: { pad: 'x'.repeat(3000) } });
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('sends security headers on non-GraphQL routes', async () => {
    const response = await server.request().get('/healthz');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    const graphqlResponse = await server.request().post('/graphql').set('authorization', `Bearer ${user}`).send({ query: '{ viewer { kind } }' });
    expect(graphqlResponse.headers['content-security-policy']).toBeUndefined();
  });
});

describe('rate limits', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { RATE_LIMIT_PER_USER: '5', RATE_LIMIT_PER_MACHINE: '40', RATE_LIMIT_PER_IP: '200' } });
  });
  afterAll(() => limited.close());

  it('limits an end user per token subject with 429 and Retry-After, while another user keeps working', async () => {
    const noisy = await limited.userToken(`auth0|${randomUUID()}`);
    const quiet = await limited.userToken(`auth0|${randomUUID()}`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await graphql(limited, { query: '{ viewer { kind } }', token: noisy })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await limited.request().post('/graphql').set('authorization', `Bearer ${noisy}`).send({ query: '{ viewer { kind } }' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect((await graphql(limited, { query: '{ viewer { kind } }', token: quiet })).status).toBe(200);
  });

  it('gives a machine client calling addUser a larger budget, enough for a sign-up storm', async () => {
    const machine = await limited.machineToken(['create:users']);
    const calls = await Promise.all(
      Array.from({ length: 40 }, () => graphql(limited, { query: 'mutation ($i: AddUserInput!) { addUser(input: $i) { created } }', variables: { i: { auth0Id: `auth0|${randomUUID()}` } }, token: machine })),
    );
    expect(calls.map((call) => call.status).filter((status) => status !== 200)).toEqual([]);
    expect((await graphql(limited, { query: '{ viewer { kind } }', token: machine })).status).toBe(429);
  });

  it('limits floods of requests with bad tokens by IP', async () => {
    const flood = await startTestServer({ env: { RATE_LIMIT_PER_IP: '10' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i += 1) statuses.push((await graphql(flood, { query: '{ viewer { kind } }', token: 'garbage' })).status);
      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(statuses[10]).toBe(429);
    } finally {
      await flood.close();
    }
  });
});
