// Walks every root field of the schema and proves each refuses a caller without the right token.
import { randomUUID } from 'node:crypto';
import { buildSchema } from 'graphql';
import { loadTypeDefs } from '../src/schema';
import { graphql } from './support/graphql';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { startTestServer, type TestServer } from './support/server';

type Caller = { kind: 'anyToken' } | { kind: 'user' } | { kind: 'machine'; scope: string };

interface RootFieldAccess {
  caller: Caller;
  /** A call of the field with valid arguments. */
  operation: string;
  variables?: () => Record<string, unknown>;
  /** What the right caller gets with these variables: data, or NOT_FOUND for an id that is not theirs. */
  rightCallerGets?: 'data' | 'NOT_FOUND';
}

const ALL_SCOPES = ['create:users', 'read:users', 'read:transactions', 'migrate:users', 'update:users', 'delete:users'];

// Every root field must be listed here: the first test fails when one is added without an entry.
const ACCESS: Record<string, RootFieldAccess> = {
  'Query.viewer': { caller: { kind: 'anyToken' }, operation: '{ viewer { kind } }' },
  'Query.me': { caller: { kind: 'user' }, operation: '{ me { id } }' },
  'Query.user': {
    caller: { kind: 'machine', scope: 'read:users' },
    operation: 'query ($id: String!) { user(auth0Id: $id) { id } }',
    variables: () => ({ id: `auth0|${randomUUID()}` }),
  },
  'Query.users': { caller: { kind: 'machine', scope: 'read:users' }, operation: '{ users(first: 1) { edges { cursor } } }' },
  'Mutation.createTransaction': {
    caller: { kind: 'user' },
    operation: 'mutation ($input: CreateTransactionInput!) { createTransaction(input: $input) { id } }',
    variables: () => ({ input: { amountMinor: 100, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' } }),
  },
  'Mutation.updateTransaction': {
    caller: { kind: 'user' },
    operation: 'mutation ($id: ID!) { updateTransaction(id: $id, input: { amountMinor: 1 }) { id } }',
    variables: () => ({ id: randomUUID() }),
    rightCallerGets: 'NOT_FOUND',
  },
  'Mutation.deleteTransaction': {
    caller: { kind: 'user' },
    operation: 'mutation ($id: ID!) { deleteTransaction(id: $id) { deletedId } }',
    variables: () => ({ id: randomUUID() }),
    rightCallerGets: 'NOT_FOUND',
  },
  'Query.legacyUser': {
    caller: { kind: 'machine', scope: 'migrate:users' },
    operation: 'query ($email: String!) { legacyUser(email: $email) { legacyId } }',
    variables: () => ({ email: `${randomUUID()}@legacy.example` }),
  },
  'Query.legacyUserByAuth0Id': {
    caller: { kind: 'machine', scope: 'migrate:users' },
    operation: 'query ($id: String!) { legacyUserByAuth0Id(auth0Id: $id) { legacyId } }',
    variables: () => ({ id: `auth0|${randomUUID()}` }),
  },
  'Mutation.verifyLegacyPassword': {
    caller: { kind: 'machine', scope: 'migrate:users' },
    operation: 'mutation ($input: VerifyLegacyPasswordInput!) { verifyLegacyPassword(input: $input) { valid } }',
    variables: () => ({ input: { email: `${randomUUID()}@legacy.example`, password: 'not-the-password' } }),
  },
  'Query.userChanges': {
    caller: { kind: 'machine', scope: 'read:users' },
    operation: 'query ($id: String!) { userChanges(auth0Id: $id) { id } }',
    variables: () => ({ id: `auth0|${randomUUID()}` }),
  },
  'Mutation.updateUser': {
    caller: { kind: 'machine', scope: 'update:users' },
    operation: 'mutation ($id: String!) { updateUser(auth0Id: $id, input: { name: "New" }) { id } }',
    variables: () => ({ id: `auth0|${randomUUID()}` }),
    rightCallerGets: 'NOT_FOUND',
  },
  'Mutation.deleteUser': {
    caller: { kind: 'machine', scope: 'delete:users' },
    operation: 'mutation ($id: String!) { deleteUser(auth0Id: $id) { deletedAt } }',
    variables: () => ({ id: `auth0|${randomUUID()}` }),
  },
  'Mutation.updateMe': {
    caller: { kind: 'user' },
    operation: 'mutation { updateMe(input: { name: "Me" }) { id } }',
    // A user unknown to the Management API stand-in: Auth0 answers 404.
    rightCallerGets: 'NOT_FOUND',
  },
  'Mutation.addUser': {
    caller: { kind: 'machine', scope: 'create:users' },
    operation: 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }',
    variables: () => ({ input: { auth0Id: `auth0|${randomUUID()}` } }),
  },
};

const schema = buildSchema(loadTypeDefs().join('\n'));
const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
  .filter((type) => type != null)
  .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));

let server: TestServer;
let mgmt: ManagementApiStandIn;
beforeAll(async () => {
  mgmt = await startManagementApi();
  server = await startTestServer({
    env: mgmt.env,
  });
});
afterAll(async () => {
  await server.close();
  await mgmt.close();
});

const call = (access: RootFieldAccess, token: string | null) => graphql(server, { query: access.operation, variables: access.variables?.() ?? {}, token });

it('every root field of the schema states who may call it', () => {
  expect(rootFields.length).toBeGreaterThan(0);
  expect(rootFields.filter((field) => !(field in ACCESS))).toEqual([]);
  expect(Object.keys(ACCESS).filter((field) => !rootFields.includes(field))).toEqual([]);
});

describe.each(rootFields)('%s', (field) => {
  const access = (): RootFieldAccess => {
    const entry = ACCESS[field];
    if (!entry) throw new Error(`${field} has no entry in ACCESS`);
    return entry;
  };

  it('refuses a request without a token with 401', async () => {
    const response = await call(access(), null);
    expect(response.status).toBe(401);
    expect(response.data).toBeUndefined();
  });

  it('refuses callers without the right token with FORBIDDEN, and answers the right one', async () => {
    const { caller } = access();
    const wrongCallers: string[] = [];
    let rightCaller: string;
    if (caller.kind === 'user') {
      wrongCallers.push(await server.machineToken(ALL_SCOPES));
      rightCaller = await server.userToken(`auth0|${randomUUID()}`);
    } else if (caller.kind === 'machine') {
      wrongCallers.push(await server.userToken(`auth0|${randomUUID()}`));
      wrongCallers.push(await server.machineToken(ALL_SCOPES.filter((scope) => scope !== caller.scope)));
      rightCaller = await server.machineToken([caller.scope]);
    } else {
      rightCaller = await server.userToken(`auth0|${randomUUID()}`);
    }
    for (const token of wrongCallers) {
      const response = await call(access(), token);
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const allowed = await call(access(), rightCaller);
    expect(allowed.status).toBe(200);
    if (access().rightCallerGets === 'NOT_FOUND') expect(allowed.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    else expect(allowed.errors).toBeUndefined();
  });
});
