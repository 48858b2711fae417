// Machine clients reading users and their transactions: scopes, pagination, a bounded number of queries, index use.
import { randomUUID } from 'node:crypto';
import { Prisma } from '../src/generated/prisma/client';
import { CursorCodec } from '../src/modules/common/cursor';
import { TransactionsService } from '../src/modules/transactions/transactions-service';
import { expectData, expectError, graphql } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let reader: string;
beforeAll(async () => {
  server = await startTestServer();
  reader = await server.machineToken(['read:users', 'read:transactions']);
});
afterAll(() => server.close());

async function usersWithTransactions(count: number, perUser: number): Promise<string[]> {
  const auth0Ids = Array.from({ length: count }, () => `auth0|${randomUUID()}`);
  for (const auth0Id of auth0Ids) {
    await server.prisma.user.create({
      data: {
        auth0Id,
        transactions: { create: Array.from({ length: perUser }, (_, i) => ({ amountMinor: BigInt(i + 1), currency: 'EUR', occurredAt: new Date(Date.UTC(2026, 0, 1, i)) })) },
      },
    });
  }
  return auth0Ids;
}

describe('user(auth0Id) and users', () => {
  it('a machine token with read:users finds a user by Auth0 id, and null for an unknown one', async () => {
    const [auth0Id] = await usersWithTransactions(1, 0);
    const query = 'query ($id: String!) { user(auth0Id: $id) { auth0Id } }';
    expect(await expectData(server, { query, variables: { id: auth0Id }, token: reader })).toEqual({ user: { auth0Id } });
    expect(await expectData(server, { query, variables: { id: 'auth0|nobody-here' }, token: reader })).toEqual({ user: null });
    const bad = await expectError(server, { query, variables: { id: 'not an id' }, token: reader }, 'BAD_USER_INPUT');
    expect(bad.extensions?.field).toBe('auth0Id');
  });

  it('pages through every user newest first, each exactly once', async () => {
    await usersWithTransactions(13, 0);
    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard += 1) {
      const data: { users: { edges: Array<{ node: { auth0Id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await expectData(server, {
        query: 'query ($after: String) { users(first: 5, after: $after) { edges { node { auth0Id } } pageInfo { hasNextPage endCursor } } }',
        variables: { after },
        token: reader,
      });
      seen.push(...data.users.edges.map((edge) => edge.node.auth0Id));
      if (!data.users.pageInfo.hasNextPage) break;
      after = data.users.pageInfo.endCursor;
    }
    const expected = await server.prisma.user.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    expect(seen).toEqual(expected.map((user) => user.auth0Id));
  });

  it('refuses a users cursor given to a transactions list, and the reverse', async () => {
    const data = await expectData<{ users: { pageInfo: { endCursor: string } } }>(server, { query: '{ users(first: 1) { pageInfo { endCursor } } }', token: reader });
    const [auth0Id] = await usersWithTransactions(1, 2);
    const error = await expectError(
      server,
      { query: 'query ($id: String!, $after: String) { user(auth0Id: $id) { transactions(after: $after) { edges { cursor } } } }', variables: { id: auth0Id, after: data.users.pageInfo.endCursor }, token: reader },
      'BAD_USER_INPUT',
    );
    expect(error.extensions?.field).toBe('after');
  });
});

describe('reading any user\'s transactions', () => {
  const TRANSACTIONS_OF = 'query ($id: String!) { user(auth0Id: $id) { auth0Id transactions(first: 2) { edges { node { amountMinor } } } } }';

  it('a machine token with read:transactions reads them', async () => {
    const [auth0Id] = await usersWithTransactions(1, 3);
    const data = await expectData<{ user: { transactions: { edges: unknown[] } } }>(server, { query: TRANSACTIONS_OF, variables: { id: auth0Id }, token: reader });
    expect(data.user.transactions.edges).toEqual([{ node: { amountMinor: '3' } }, { node: { amountMinor: '2' } }]);
  });

  it('a machine token with read:users but without read:transactions is FORBIDDEN from them', async () => {
    const [auth0Id] = await usersWithTransactions(1, 3);
    const response = await graphql(server, { query: TRANSACTIONS_OF, variables: { id: auth0Id }, token: await server.machineToken(['read:users']) });
    expect(response.errors?.map((error) => [error.extensions?.code, error.path?.join('.')])).toEqual([['FORBIDDEN', 'user.transactions']]);
    expect(JSON.stringify(response.data)).not.toContain('amountMinor');
  });
});

describe('speed by construction', () => {
  const USERS_WITH_TRANSACTIONS = 'query ($first: Int) { users(first: $first) { edges { node { auth0Id transactions(first: 3) { edges { node { id } } } } } } }';

  async function queriesFor(first: number): Promise<number> {
    const before = server.queries.length;
    const data = await expectData<{ users: { edges: Array<{ node: { transactions: { edges: unknown[] } } }> } }>(server, { query: USERS_WITH_TRANSACTIONS, variables: { first }, token: reader });
    expect(data.users.edges).toHaveLength(first);
    expect(data.users.edges.every((edge) => edge.node.transactions.edges.length === 3)).toBe(true);
    return server.queries.length - before;
  }

  it('a list of users with their transactions costs two queries, whatever the number of users', async () => {
    const fresh = await startTestServer();
    try {
      const token = await fresh.machineToken(['read:users', 'read:transactions']);
      for (let i = 0; i < 12; i += 1) {
        await fresh.prisma.user.create({
          data: {
            auth0Id: `auth0|${randomUUID()}`,
            transactions: { create: Array.from({ length: 4 }, (_, n) => ({ amountMinor: 1n, currency: 'EUR', occurredAt: new Date(Date.UTC(2026, 0, n + 1)) })) },
          },
        });
      }
      const count = async (first: number) => {
        const before = fresh.queries.length;
        await expectData(fresh, { query: USERS_WITH_TRANSACTIONS, variables: { first }, token });
        return fresh.queries.length - before;
      };
      expect(await count(2)).toBe(2);
      expect(await count(12)).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  it('a page of transactions seeks the (user_id, occurred_at, id) index at page 1 and deep, never scanning the table or using OFFSET', async () => {
    await server.prisma.$executeRaw`
      INSERT INTO users (auth0_id) SELECT 'auth0|explain-' || g FROM generate_series(1, 200) g`;
    await server.prisma.$executeRaw`
      INSERT INTO transactions (user_id, amount_minor, currency, occurred_at)
      SELECT u.id, (random() * 10000)::bigint - 5000, 'EUR', now() - (g || ' minutes')::interval
        FROM users u CROSS JOIN generate_series(1, CASE WHEN u.auth0_id = 'auth0|explain-77' THEN 3000 ELSE 100 END) g
       WHERE u.auth0_id LIKE 'auth0|explain-%'`;
    await server.prisma.$executeRaw`ANALYZE transactions`;
    const [target] = await server.prisma.$queryRaw<Array<{ id: string }>>`SELECT id FROM users WHERE auth0_id = 'auth0|explain-77'`;
    const cursorAt = async (offset: number): Promise<[string, string]> => {
      const [row] = await server.prisma.$queryRaw<Array<{ occurred_at: Date; id: string }>>`
        SELECT occurred_at, id FROM transactions WHERE user_id = ${target!.id}::uuid ORDER BY occurred_at DESC, id DESC OFFSET ${offset} LIMIT 1`;
      return [row!.occurred_at.toISOString(), row!.id];
    };
    const service = new TransactionsService(server.prisma, server.sql, new CursorCodec(Buffer.from('x'.repeat(32))));
    const planOf = async (after?: [string, string]) =>
      planNodes((await server.prisma.$queryRaw<Array<{ 'QUERY PLAN': unknown }>>(Prisma.sql`EXPLAIN (FORMAT JSON) ${service.pageQuery([target!.id], 50, {}, after)}`))[0]!['QUERY PLAN']);

    const positions: Array<[string, [string, string] | undefined]> = [
      ['page 1', undefined],
      ['page 30', await cursorAt(1500)],
      ['the last pages', await cursorAt(2900)],
    ];
    for (const [label, after] of positions) {
      const nodes = await planOf(after);
      const seeks = nodes.filter((node) => node['Index Name'] === 'transactions_user_id_occurred_at_id_idx');
      expect({ label, seeks: seeks.length }).toEqual({ label, seeks: 1 });
      expect(String(seeks[0]!['Index Cond'])).toContain('user_id =');
      if (after) expect(String(seeks[0]!['Index Cond'])).toMatch(/ROW\(occurred_at, id\) < ROW/);
      expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
      if (label !== 'the last pages') {
        // Enough rows follow: the scan walks the index in order and stops after the page.
        expect({ label, types: nodes.map((node) => node['Node Type']) }).toEqual({ label, types: ['Limit', 'Index Scan'] });
      }
    }
  });
});

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

function planNodes(explained: unknown): PlanNode[] {
  const root = (explained as Array<{ Plan: PlanNode }>)[0]!.Plan;
  const all: PlanNode[] = [];
  const visit = (node: PlanNode) => {
    all.push(node);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(root);
  return all;
}
