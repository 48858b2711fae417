// A document runs on graphql-js the first time and compiled by graphql-jit after: both answer alike, data and errors.
import { randomUUID } from 'node:crypto';
import { graphql, type GraphQLResponse, type Operation } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

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
