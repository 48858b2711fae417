// Hostile requests are refused before execution, with a clear error, while normal requests keep working.
import { randomUUID } from 'node:crypto';
import { JSON_MAX_DEPTH } from '../src/modules/common/json-limits';
import { JSONObjectScalar } from '../src/modules/common/json-object-scalar';
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

describe('input Postgres cannot store or the stack cannot hold', () => {
  const MACHINE_SCOPES = ['create:users', 'read:users', 'update:users', 'delete:users', 'read:transactions', 'migrate:users'];
  const NUL = '\u0000';
  const uuid = () => randomUUID();

  // Every root field that takes a string, with a NUL in one string it takes: in a variable, in a
  // JSONObject key or value, or in a literal of the document.
  const withNul: Array<[string, string, Record<string, unknown>]> = [
    ['user(auth0Id) in a variable', 'query ($id: String!) { user(auth0Id: $id) { id } }', { id: `auth0|a${NUL}b` }],
    ['user(auth0Id) in a literal', '{ user(auth0Id: "auth0|a\\u0000b") { id } }', {}],
    ['users(after)', 'query ($after: String) { users(first: 1, after: $after) { edges { cursor } } }', { after: `x${NUL}` }],
    ['userChanges(auth0Id)', 'query ($id: String!) { userChanges(auth0Id: $id) { id } }', { id: `auth0|${NUL}` }],
    ['legacyUser(email)', 'query ($email: String!) { legacyUser(email: $email) { legacyId } }', { email: `a${NUL}@example.com` }],
    ['legacyUserByAuth0Id(auth0Id)', 'query ($id: String!) { legacyUserByAuth0Id(auth0Id: $id) { legacyId } }', { id: `auth0|${NUL}` }],
    ['me.transactions(after, filter.currency)', 'query ($after: String) { me { transactions(first: 1, after: $after, filter: { currency: "E\\u0000R" }) { edges { cursor } } } }', { after: null }],
    ['addUser(input.auth0Id)', 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }', { input: { auth0Id: `auth0|${uuid()}${NUL}` } }],
    ['addUser(input.connection)', 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }', { input: { auth0Id: `auth0|${uuid()}`, connection: `db${NUL}` } }],
    ['updateUser(auth0Id)', 'mutation ($id: String!) { updateUser(auth0Id: $id, input: { name: "Ada" }) { id } }', { id: `auth0|${uuid()}${NUL}` }],
    ['updateUser(input.appMetadata) in a key', 'mutation ($id: String!, $input: UpdateUserInput!) { updateUser(auth0Id: $id, input: $input) { id } }', { id: `auth0|${uuid()}`, input: { appMetadata: { [`plan${NUL}`]: 'pro' } } }],
    ['deleteUser(auth0Id)', 'mutation ($id: String!) { deleteUser(auth0Id: $id) { auth0Id } }', { id: `auth0|${uuid()}${NUL}` }],
    ['updateMe(input.userMetadata) in a nested value', 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { id } }', { input: { userMetadata: { theme: { colours: ['dark', `b${NUL}`] } } } }],
    ['updateMe(input.userMetadata) in a literal', 'mutation { updateMe(input: { userMetadata: { theme: "d\\u0000" } }) { id } }', {}],
    ['createTransaction(input.description)', 'mutation ($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }', { input: { amountMinor: '1', currency: 'EUR', description: `x${NUL}`, occurredAt: '2026-01-01T00:00:00Z' } }],
    ['updateTransaction(id)', 'mutation ($id: ID!) { updateTransaction(id: $id, input: { description: "x" }) { id } }', { id: `${uuid()}${NUL}` }],
    ['deleteTransaction(id)', 'mutation ($id: ID!) { deleteTransaction(id: $id) { deletedId } }', { id: `${uuid()}${NUL}` }],
    ['verifyLegacyPassword(input.password)', 'mutation ($input: VerifyLegacyPasswordInput!) { verifyLegacyPassword(input: $input) { __typename } }', { input: { email: 'a@example.com', password: `pw${NUL}` } }],
  ];
  const withNulPerMediaType = withNul.flatMap(([label, query, variables]) => MEDIA_TYPES.map((accept) => [label, accept, query, variables] as const));

  it.each(withNulPerMediaType)('refuses a NUL character in %s, accepting %s: BAD_USER_INPUT before anything reaches Postgres', async (_label, accept, query, variables) => {
    const before = server.queries.length;
    // Refused whoever asks, before any check of who may ask reaches the database.
    const machine = await graphql(server, { query, variables, token: await server.machineToken(MACHINE_SCOPES), accept });
    const endUser = await graphql(server, { query, variables, token: user, accept });
    for (const refused of [machine, endUser]) {
      expect(refused.status).toBe(REQUEST_ERROR_STATUS[accept]);
      expect(refused.data).toBeUndefined();
      expect(refused.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
      expect(refused.errors?.[0]?.message).toMatch(/NUL/);
    }
    expect(server.queries.length).toBe(before);
  });

  it('names where the NUL is: the variable or argument, then the keys within it', async () => {
    const inVariable = await graphql(server, { query: 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { id } }', variables: { input: { userMetadata: { tags: ['ok', `x${NUL}`] } } }, token: user });
    expect(inVariable.errors?.[0]?.extensions?.field).toBe('input.userMetadata.tags.1');
    const inLiteral = await graphql(server, { query: 'mutation { addUser(input: { auth0Id: "auth0|1", name: "a\\u0000" }) { created } }', token: await server.machineToken(MACHINE_SCOPES) });
    expect(inLiteral.errors?.[0]?.extensions?.field).toBe('input.name');
  });

  /** A raw JSON body: the test's own JSON.stringify would overflow on such nesting. */
  const postRaw = (body: string, token: string, accept?: string) => {
    let request = server.request().post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${token}`);
    if (accept) request = request.set('accept', accept);
    return request.send(body);
  };
  const UPDATE_ME = JSON.stringify('mutation ($input: UpdateMeInput!) { updateMe(input: $input) { id } }');

  it.each(MEDIA_TYPES)('refuses a 50,000-level JSON value in userMetadata, accepting %s, with BAD_USER_INPUT and nothing written', async (accept) => {
    const levels = 50_000;
    const before = server.queries.length;
    const deepArrays = `{"query":${UPDATE_ME},"variables":{"input":{"userMetadata":{"a":${'['.repeat(levels)}${']'.repeat(levels)}}}}}`;
    const response = await postRaw(deepArrays, user, accept);
    expect(response.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    expect(response.body.errors[0].message).toMatch(/deeper than/);
    expect(server.queries.length).toBe(before);
  });

  it('refuses deep JSON in any variable, and a deep JSONObject literal as an invalid document', async () => {
    const before = server.queries.length;
    const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    // A variable the operation does not even declare is still refused: nothing recursive may see it.
    const undeclared = await postRaw(`{"query":"{ viewer { kind } }","variables":{"unused":${deepObject(15_000)}}}`, user);
    expect(undeclared.body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/deeper than/), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    // A literal is part of the document: refused by validation, as any literal of the wrong shape is.
    const literal = await graphql(server, { query: `mutation { updateMe(input: { userMetadata: ${'{ a: '.repeat(40)}1${' }'.repeat(40)} }) { id } }`, token: user });
    expect(literal.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/deeper than/), extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
    expect(literal.data).toBeUndefined();
    expect(server.queries.length).toBe(before);
    // Twenty levels pass.
    const within = await postRaw(`{"query":"{ viewer { kind } }","variables":{"unused":${deepObject(20)}}}`, user);
    expect(within.body).toEqual({ data: { viewer: { kind: 'USER' } } });
  });

  it('takes metadata nested within the limit in the JSONObject scalar, and refuses it one level deeper', () => {
    const nested = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = { leaf: true };
      for (let level = 1; level < levels; level += 1) value = { a: value };
      return value;
    };
    expect(JSONObjectScalar.parseValue(nested(JSON_MAX_DEPTH))).toEqual(nested(JSON_MAX_DEPTH));
    expect(() => JSONObjectScalar.parseValue(nested(JSON_MAX_DEPTH + 1))).toThrow(`nests deeper than ${JSON_MAX_DEPTH} levels`);
    expect(() => JSONObjectScalar.parseValue({ ['plan\u0000']: 'pro' })).toThrow(/NUL/);
  });
});
