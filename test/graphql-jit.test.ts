// A document runs on graphql-js the first time and compiled by graphql-jit after: both answer alike, data and errors.
import { randomUUID } from 'node:crypto';
import { graphql, MEDIA_TYPES, REQUEST_ERROR_STATUS, type GraphQLResponse, type Operation } from './support/graphql';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { startTestServer, type TestServer } from './support/server';

let mgmt: ManagementApiStandIn;
let server: TestServer;
beforeAll(async () => {
  mgmt = await startManagementApi();
  server = await startTestServer({ env: mgmt.env });
});
afterAll(async () => {
  await server.close();
  await mgmt.close();
});

// A comment makes the text, and so Apollo's parsed document, new to the server: its first run is interpreted.
const fresh = (query: string) => `${query}\n# ${randomUUID()}`;

/** Runs the operation three times: the first on graphql-js, then twice compiled. */
async function threeRuns(operation: Operation): Promise<Array<Omit<GraphQLResponse<unknown>, 'requestId' | 'headers'>>> {
  const runs = [];
  for (let i = 0; i < 3; i += 1) {
    const { status, data, errors } = await graphql(server, operation);
    runs.push({ status, data, errors });
  }
  return runs;
}

it('answers a page of transactions, a summary and the profile alike, interpreted and compiled', async () => {
  const auth0Id = `google-oauth2|${randomUUID()}`;
  const user = await server.prisma.user.create({ data: { auth0Id, email: 'jit@example.com', name: 'Zoë "Z" Ñandú', userMetadata: { theme: 'dark', tags: ['a', 'b'] } } });
  await server.prisma.transaction.createMany({
    data: [
      { userId: user.id, amountMinor: 9_007_199_254_740_993n, currency: 'EUR', description: 'larger than a double holds', occurredAt: new Date(Date.UTC(2026, 0, 2)) },
      { userId: user.id, amountMinor: -250n, currency: 'EUR', description: null, occurredAt: new Date(Date.UTC(2026, 0, 1)) },
      { userId: user.id, amountMinor: 1n, currency: 'USD', occurredAt: new Date(Date.UTC(2025, 11, 31)) },
    ],
  });
  const query = fresh(`query Profile($first: Int) {
    me {
      auth0Id email name emailVerified loginsCount lastLoginAt userMetadata
      transactions(first: $first) { edges { cursor node { id amountMinor currency description occurredAt } } pageInfo { hasNextPage endCursor } }
      transactionSummary { currency count totalMinor incomeMinor spendingMinor }
    }
  }`);
  const [interpreted, ...compiled] = await threeRuns({ query, variables: { first: 2 }, token: await server.userToken(auth0Id) });
  expect(interpreted!.errors).toBeUndefined();
  const me = (interpreted!.data as { me: { transactions: { edges: Array<{ node: { amountMinor: string; description: string | null } }>; pageInfo: { hasNextPage: boolean } } } }).me;
  expect(me.transactions.edges.map((edge) => edge.node.amountMinor)).toEqual(['9007199254740993', '-250']);
  expect(me.transactions.edges[1]!.node.description).toBeNull();
  expect(me.transactions.pageInfo.hasNextPage).toBe(true);
  expect(compiled).toEqual([interpreted, interpreted]);
});

it('refuses bad variables alike: BAD_USER_INPUT before anything runs, no data, nothing written', async () => {
  const query = fresh('mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created } }');
  const token = await server.machineToken(['create:users']);
  const runs = await threeRuns({ query, variables: { input: { email: 'no-id@example.com', loginsCount: 'many' } }, token });
  expect(runs[0]!.data).toBeUndefined();
  // Both problems: the missing auth0Id and the string where a number goes.
  expect(runs[0]!.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
  expect(runs.slice(1)).toEqual([runs[0], runs[0]]);
  expect(await server.prisma.user.count({ where: { email: 'no-id@example.com' } })).toBe(0);
});

it('answers a resolver\'s error alike: its code, message, path and locations, and the data beside it', async () => {
  const auth0Id = `auth0|${randomUUID()}`;
  const query = fresh(`query Mixed($auth0Id: String!) {
    viewer { kind }
    user(auth0Id: $auth0Id) { auth0Id }
  }`);
  const runs = await threeRuns({ query, variables: { auth0Id }, token: await server.userToken(auth0Id) });
  expect(runs[0]!.data).toEqual({ viewer: { kind: 'USER' }, user: null });
  expect(runs[0]!.errors).toEqual([expect.objectContaining({ path: ['user'], locations: [{ line: 3, column: 5 }], extensions: { code: 'FORBIDDEN' } })]);
  expect(runs.slice(1)).toEqual([runs[0], runs[0]]);
});

describe('an operationName that names no operation of the document', () => {
  const renameUser = () => fresh('mutation A($id: String!, $name: String!) { updateUser(auth0Id: $id, input: { name: $name }) { name } }');

  /** A user in Auth0 (the stand-in) and in Postgres, both named Ada. */
  async function seedUser(): Promise<string> {
    const auth0Id = `auth0|${randomUUID()}`;
    const updatedAt = new Date(Date.UTC(2026, 9, 1)).toISOString();
    mgmt.users.push({ user_id: auth0Id, email: `${randomUUID().slice(0, 8)}@example.com`, name: 'Ada', identities: [{ connection: 'Username-Password-Authentication', isSocial: false }], updated_at: updatedAt });
    await server.prisma.user.create({ data: { auth0Id, name: 'Ada', auth0UpdatedAt: new Date(updatedAt) } });
    return auth0Id;
  }

  /** Neither Postgres nor Auth0 saw the name the refused request carried. */
  async function expectUnchanged(auth0Id: string, name: string) {
    expect((await server.prisma.user.findUniqueOrThrow({ where: { auth0Id } })).name).toBe(name);
    expect(mgmt.users.find((user) => user.user_id === auth0Id)?.name).toBe(name);
    expect(mgmt.calls.filter((call) => call.method === 'PATCH' && call.path === `/api/v2/users/${encodeURIComponent(auth0Id)}`).length).toBe(name === 'Ada' ? 0 : 2);
  }

  const cases = MEDIA_TYPES.flatMap((accept) => [['interpreted', accept] as const, ['compiled', accept] as const]);
  it.each(cases)('is refused before running, %s, accepting %s: OPERATION_RESOLUTION_FAILURE, nothing written', async (executor, accept) => {
    const auth0Id = await seedUser();
    const token = await server.machineToken(['update:users']);
    const query = renameUser();
    let name = 'Ada';
    if (executor === 'compiled') {
      // Run twice as sent without a name (the single operation runs): the second run is compiled.
      for (name of ['Ada Lovelace', 'Ada King']) expect((await graphql(server, { query, variables: { id: auth0Id, name }, token })).errors).toBeUndefined();
    }
    const refused = await graphql(server, { query, operationName: 'B', variables: { id: auth0Id, name: 'Mallory' }, token, accept });
    expect(refused.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(refused.data).toBeUndefined();
    expect(refused.errors).toEqual([expect.objectContaining({ message: 'Unknown operation named "B".', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })]);
    await expectUnchanged(auth0Id, name);
  });

  it('is refused over GET too, so a mutation never slips past the rule that GET only runs queries', async () => {
    const auth0Id = await seedUser();
    const token = await server.machineToken(['update:users']);
    const query = renameUser();
    for (const run of [1, 2, 3]) {
      const response = await server
        .request()
        .get('/graphql')
        .query({ query, operationName: 'B', variables: JSON.stringify({ id: auth0Id, name: `Mallory ${run}` }) })
        .set('authorization', `Bearer ${token}`)
        .set('apollo-require-preflight', 'true');
      expect(response.status).toBe(200);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    }
    await expectUnchanged(auth0Id, 'Ada');
  });
});
