// Users' transactions over GraphQL: keyset pages, writes scoped to their owner, summaries, bad input.
import { randomUUID } from 'node:crypto';
import { expectData, expectError, graphql } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

interface TestUser {
  id: string;
  auth0Id: string;
  token: string;
}

async function newUser(): Promise<TestUser> {
  const auth0Id = `google-oauth2|${randomUUID()}`;
  const { id } = await server.prisma.user.create({ data: { auth0Id } });
  return { id, auth0Id, token: await server.userToken(auth0Id) };
}

async function seedTransactions(user: TestUser, rows: Array<{ amountMinor: bigint; currency?: string; occurredAt: Date; description?: string }>) {
  await server.prisma.transaction.createMany({ data: rows.map((row) => ({ userId: user.id, currency: 'EUR', ...row })) });
}

const PAGE = /* GraphQL */ `
  query Page($first: Int, $after: String, $filter: TransactionFilter) {
    me {
      transactions(first: $first, after: $after, filter: $filter) {
        edges { cursor node { id amountMinor currency description occurredAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

interface PageData {
  me: {
    transactions: {
      edges: Array<{ cursor: string; node: { id: string; amountMinor: string; currency: string; description: string | null; occurredAt: string } }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
}

const page = (user: TestUser, variables: Record<string, unknown> = {}) => expectData<PageData>(server, { query: PAGE, variables, token: user.token });

async function allIds(user: TestUser, first: number, filter?: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard += 1) {
    const { me }: PageData = await page(user, { first, after, filter });
    ids.push(...me.transactions.edges.map((edge) => edge.node.id));
    if (!me.transactions.pageInfo.hasNextPage) return ids;
    after = me.transactions.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

async function expectedOrder(user: TestUser, where: Record<string, unknown> = {}): Promise<string[]> {
  const rows = await server.prisma.transaction.findMany({ where: { userId: user.id, ...where }, orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] });
  return rows.map((row) => row.id);
}

describe('me', () => {
  const ME = '{ me { id auth0Id email emailVerified connection } }';

  it('answers the caller\'s own user', async () => {
    const user = await newUser();
    const data = await expectData<{ me: { id: string; auth0Id: string } }>(server, { query: ME, token: user.token });
    expect(data.me).toMatchObject({ id: user.id, auth0Id: user.auth0Id });
  });

  it('provisions a missing user from the token and the Action\'s namespaced email claims', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const ns = server.config.auth.claimsNamespace;
    const token = await server.userToken(auth0Id, { [`${ns}email`]: 'late@example.com', [`${ns}email_verified`]: true });
    const data = await expectData<{ me: Record<string, unknown> }>(server, { query: ME, token });
    expect(data.me).toMatchObject({ auth0Id, email: 'late@example.com', emailVerified: true, connection: 'auth0' });
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(1);
  });

  it('provisions a missing user without email claims', async () => {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    const data = await expectData<{ me: Record<string, unknown> }>(server, { query: ME, token: await server.userToken(auth0Id) });
    expect(data.me).toMatchObject({ auth0Id, email: null, emailVerified: false, connection: 'google-oauth2' });
  });

  it('creates exactly one row when 25 first requests arrive at once', async () => {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    const token = await server.userToken(auth0Id);
    const results = await Promise.all(Array.from({ length: 25 }, () => expectData<{ me: { id: string } }>(server, { query: ME, token })));
    expect(new Set(results.map((result) => result.me.id)).size).toBe(1);
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(1);
  });
});

describe('me.transactions', () => {
  it('pages newest first, breaks ties on id, and visits every transaction exactly once', async () => {
    const user = await newUser();
    const tie = new Date('2026-03-01T12:00:00.000Z');
    await seedTransactions(user, [
      ...Array.from({ length: 6 }, (_, i) => ({ amountMinor: BigInt(i + 1), occurredAt: tie })),
      ...Array.from({ length: 9 }, (_, i) => ({ amountMinor: BigInt(-i - 1), occurredAt: new Date(Date.UTC(2026, 0, i + 1)) })),
    ]);
    const expected = await expectedOrder(user);
    expect(await allIds(user, 4)).toEqual(expected);
    expect(await allIds(user, 1)).toEqual(expected);
    expect(await allIds(user, 100)).toEqual(expected);
  });

  it('gives 20 by default, at most 100, and an empty last page without a cursor', async () => {
    const user = await newUser();
    await seedTransactions(user, Array.from({ length: 105 }, (_, i) => ({ amountMinor: 100n, occurredAt: new Date(Date.UTC(2025, 0, 1, 0, i)) })));
    expect((await page(user)).me.transactions.edges).toHaveLength(20);
    const full = await page(user, { first: 100 });
    expect(full.me.transactions.edges).toHaveLength(100);
    expect(full.me.transactions.pageInfo.hasNextPage).toBe(true);

    const empty = await newUser();
    expect((await page(empty)).me.transactions).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('filters by period [from, to) and by currency', async () => {
    const user = await newUser();
    await seedTransactions(user, [
      { amountMinor: 1n, occurredAt: new Date('2026-01-31T23:59:59.999Z') },
      { amountMinor: 2n, occurredAt: new Date('2026-02-01T00:00:00.000Z') },
      { amountMinor: 3n, occurredAt: new Date('2026-02-15T00:00:00.000Z'), currency: 'USD' },
      { amountMinor: 4n, occurredAt: new Date('2026-03-01T00:00:00.000Z') },
    ]);
    const february = { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
    const amounts = async (filter: Record<string, unknown>) =>
      (await page(user, { filter })).me.transactions.edges.map((edge) => edge.node.amountMinor);
    expect(await amounts(february)).toEqual(['3', '2']);
    expect(await amounts({ ...february, currency: 'EUR' })).toEqual(['2']);
    expect(await amounts({ currency: 'USD' })).toEqual(['3']);
  });

  it('returns the same page through a cursor however deep it is', async () => {
    const user = await newUser();
    await seedTransactions(user, Array.from({ length: 60 }, (_, i) => ({ amountMinor: BigInt(i + 1), occurredAt: new Date(Date.UTC(2024, 0, 1, i)) })));
    const expected = await expectedOrder(user);
    let after: string | null = null;
    for (let i = 0; i < 5; i += 1) after = (await page(user, { first: 10, after })).me.transactions.pageInfo.endCursor;
    const sixth = await page(user, { first: 10, after });
    expect(sixth.me.transactions.edges.map((edge) => edge.node.id)).toEqual(expected.slice(50, 60));
    expect(sixth.me.transactions.pageInfo.hasNextPage).toBe(false);
  });
});

describe('cursors and other users\' data', () => {
  let alice: TestUser;
  let bob: TestUser;
  let bobsCursor: string;

  beforeAll(async () => {
    alice = await newUser();
    bob = await newUser();
    await seedTransactions(alice, [{ amountMinor: 1n, occurredAt: new Date('2026-01-01T00:00:00Z') }]);
    await seedTransactions(bob, Array.from({ length: 3 }, (_, i) => ({ amountMinor: 7n, occurredAt: new Date(Date.UTC(2026, 0, i + 1)), description: 'bob secret' })));
    bobsCursor = (await page(bob, { first: 1 })).me.transactions.pageInfo.endCursor!;
  });

  const refused = async (after: string) => {
    const error = await expectError(server, { query: PAGE, variables: { first: 5, after }, token: alice.token }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('after');
    expect(JSON.stringify(error.response)).not.toContain('bob secret');
    return error;
  };

  it('refuses a cursor taken from another user\'s page', async () => {
    expect((await refused(bobsCursor)).message).toContain('another list');
  });

  it('refuses a malformed cursor', async () => {
    await refused('not-a-cursor');
    await refused('a.b.c');
  });

  it('refuses a tampered cursor whose payload was re-pointed at another user', async () => {
    const [payload, signature] = bobsCursor.split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...decoded, l: `transactions:${alice.id}` })).toString('base64url');
    expect((await refused(`${forged}.${signature}`)).message).toContain('not a cursor from this API');
  });

  it('an end user cannot reach another user\'s transactions by any root field', async () => {
    const asAlice = (query: string, variables = {}) => graphql(server, { query, variables, token: alice.token });
    const byAuth0Id = await asAlice('query ($id: String!) { user(auth0Id: $id) { transactions { edges { node { id } } } } }', { id: bob.auth0Id });
    expect(byAuth0Id.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await asAlice('{ users { edges { node { auth0Id } } } }');
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify([byAuth0Id, list])).not.toContain(bob.auth0Id);
  });
});

describe('bad input on reads answers BAD_USER_INPUT naming the field', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await newUser();
  });

  it.each([
    ['a negative first', { first: -1 }, 'first'],
    ['a zero first', { first: 0 }, 'first'],
    ['an oversized first', { first: 101 }, 'first'],
    ['from after to', { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, 'filter.from'],
    ['an unknown currency', { filter: { currency: 'ABC' } }, 'filter.currency'],
    ['a lower-case currency', { filter: { currency: 'eur' } }, 'filter.currency'],
  ])('%s', async (_label, variables, field) => {
    const error = await expectError(server, { query: PAGE, variables, token: user.token }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe(field);
  });
});

describe('writing transactions', () => {
  const CREATE = 'mutation ($input: CreateTransactionInput!) { createTransaction(input: $input) { id amountMinor currency description occurredAt createdAt } }';
  const UPDATE = 'mutation ($id: ID!, $input: UpdateTransactionInput!) { updateTransaction(id: $id, input: $input) { id amountMinor currency description occurredAt } }';
  const DELETE = 'mutation ($id: ID!) { deleteTransaction(id: $id) { deletedId } }';

  interface Created {
    createTransaction: { id: string; amountMinor: string; currency: string; description: string | null; occurredAt: string };
  }

  const create = (user: TestUser, input: Record<string, unknown>) => expectData<Created>(server, { query: CREATE, variables: { input }, token: user.token });
  const countOf = (user: TestUser) => server.prisma.transaction.count({ where: { userId: user.id } });

  it('records a transaction with its amount exactly, given as a number or as a string of digits', async () => {
    const user = await newUser();
    const big = await create(user, { amountMinor: '-9007199254740991', currency: 'JPY', description: 'Zoë\'s "café" \\ ☕', occurredAt: '2026-11-22T10:00:00+01:00' });
    expect(big.createTransaction).toMatchObject({ amountMinor: '-9007199254740991', currency: 'JPY', description: 'Zoë\'s "café" \\ ☕', occurredAt: '2026-11-22T09:00:00.000Z' });
    const small = await create(user, { amountMinor: 1999, currency: 'EUR', occurredAt: '2026-11-22T10:00:00Z' });
    expect(small.createTransaction.amountMinor).toBe('1999');
    const stored = await server.prisma.transaction.findUniqueOrThrow({ where: { id: big.createTransaction.id } });
    expect(stored.amountMinor).toBe(-9007199254740991n);
  });

  it('provisions the caller on their first write', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const token = await server.userToken(auth0Id);
    await expectData(server, { query: CREATE, variables: { input: { amountMinor: 5, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' } }, token });
    const owner = await server.prisma.user.findUniqueOrThrow({ where: { auth0Id }, include: { transactions: true } });
    expect(owner.transactions).toHaveLength(1);
  });

  it.each([
    ['an amount beyond the safe range, as a number', { amountMinor: 9007199254740992 }, 'amountMinor'],
    ['an amount beyond the safe range, as a string', { amountMinor: '9007199254740992' }, 'amountMinor'],
    ['a fractional amount', { amountMinor: 12.5 }, 'amountMinor'],
    ['an amount written as a decimal string', { amountMinor: '12.50' }, 'amountMinor'],
    ['a zero amount', { amountMinor: 0 }, 'input.amountMinor'],
    ['an unknown currency', { currency: 'EURO' }, 'input.currency'],
    ['a description over 500 characters', { description: 'd'.repeat(501) }, 'input.description'],
    ['a description with a control character', { description: 'a\u0007b' }, 'input.description'],
    ['an occurredAt without a time zone', { occurredAt: '2026-01-01T00:00:00' }, 'occurredAt'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_label, change, field) => {
    const user = await newUser();
    const input = { amountMinor: 100, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z', ...change };
    const error = await expectError(server, { query: CREATE, variables: { input }, token: user.token }, 'BAD_USER_INPUT');
    expect(`${error.extensions?.field ?? ''} ${error.message}`).toContain(field);
    expect(await countOf(user)).toBe(0);
  });

  it('updates only the fields given, and a null description clears it', async () => {
    const user = await newUser();
    const { createTransaction: created } = await create(user, { amountMinor: 100, currency: 'EUR', description: 'coffee', occurredAt: '2026-01-01T00:00:00Z' });
    const updated = await expectData<{ updateTransaction: Record<string, unknown> }>(server, { query: UPDATE, variables: { id: created.id, input: { amountMinor: -250 } }, token: user.token });
    expect(updated.updateTransaction).toMatchObject({ amountMinor: '-250', currency: 'EUR', description: 'coffee' });
    const cleared = await expectData<{ updateTransaction: Record<string, unknown> }>(server, { query: UPDATE, variables: { id: created.id, input: { description: null, currency: 'GBP' } }, token: user.token });
    expect(cleared.updateTransaction).toMatchObject({ amountMinor: '-250', currency: 'GBP', description: null });
  });

  it('answers NOT_FOUND for another user\'s transaction exactly as for a missing one, and changes nothing', async () => {
    const owner = await newUser();
    const intruder = await newUser();
    const { createTransaction: theirs } = await create(owner, { amountMinor: 100, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' });
    const missing = randomUUID();

    const forUpdate = await Promise.all([theirs.id, missing].map((id) => expectError(server, { query: UPDATE, variables: { id, input: { amountMinor: 1 } }, token: intruder.token }, 'NOT_FOUND')));
    const forDelete = await Promise.all([theirs.id, missing].map((id) => expectError(server, { query: DELETE, variables: { id }, token: intruder.token }, 'NOT_FOUND')));
    expect(forUpdate[0]!.message).toBe(forUpdate[1]!.message);
    expect(forDelete[0]!.message).toBe(forDelete[1]!.message);
    expect(await server.prisma.transaction.findUniqueOrThrow({ where: { id: theirs.id } })).toMatchObject({ amountMinor: 100n });
  });

  it('deletes the caller\'s own transaction once; a second delete is NOT_FOUND; a malformed id is BAD_USER_INPUT', async () => {
    const user = await newUser();
    const { createTransaction: created } = await create(user, { amountMinor: 100, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' });
    const deleted = await expectData<{ deleteTransaction: { deletedId: string } }>(server, { query: DELETE, variables: { id: created.id }, token: user.token });
    expect(deleted.deleteTransaction.deletedId).toBe(created.id);
    expect(await countOf(user)).toBe(0);
    await expectError(server, { query: DELETE, variables: { id: created.id }, token: user.token }, 'NOT_FOUND');
    const malformed = await expectError(server, { query: DELETE, variables: { id: 'not-a-uuid' }, token: user.token }, 'BAD_USER_INPUT');
    expect(malformed.extensions?.field).toBe('id');
  });

  it('machine tokens cannot write transactions', async () => {
    const token = await server.machineToken(['create:users', 'read:users', 'read:transactions']);
    await expectError(server, { query: CREATE, variables: { input: { amountMinor: 1, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' } }, token }, 'FORBIDDEN');
  });
});

describe('me.transactionSummary', () => {
  const SUMMARY = 'query ($from: DateTime, $to: DateTime) { me { transactionSummary(from: $from, to: $to) { currency count totalMinor incomeMinor spendingMinor } } }';

  it('totals and counts each currency over the period', async () => {
    const user = await newUser();
    await seedTransactions(user, [
      { amountMinor: 10_000n, occurredAt: new Date('2026-05-01T00:00:00Z') },
      { amountMinor: -2_550n, occurredAt: new Date('2026-05-10T00:00:00Z') },
      { amountMinor: -450n, occurredAt: new Date('2026-05-31T23:59:59.999Z') },
      { amountMinor: 9_007_199_254_740_991n, currency: 'USD', occurredAt: new Date('2026-05-02T00:00:00Z') },
      { amountMinor: 9_007_199_254_740_991n, currency: 'USD', occurredAt: new Date('2026-05-03T00:00:00Z') },
      { amountMinor: 99n, occurredAt: new Date('2026-06-01T00:00:00Z') },
    ]);
    const data = await expectData<{ me: { transactionSummary: unknown[] } }>(server, {
      query: SUMMARY,
      variables: { from: '2026-05-01T00:00:00Z', to: '2026-06-01T00:00:00Z' },
      token: user.token,
    });
    expect(data.me.transactionSummary).toEqual([
      { currency: 'EUR', count: 3, totalMinor: '7000', incomeMinor: '10000', spendingMinor: '-3000' },
      { currency: 'USD', count: 2, totalMinor: '18014398509481982', incomeMinor: '18014398509481982', spendingMinor: '0' },
    ]);
  });

  it('refuses a period whose from is after its to', async () => {
    const user = await newUser();
    const error = await expectError(server, { query: SUMMARY, variables: { from: '2026-06-01T00:00:00Z', to: '2026-05-01T00:00:00Z' }, token: user.token }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('from');
  });
});
