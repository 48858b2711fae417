// The hot paths' statements are prepared once per connection, unless DATABASE_PREPARED_STATEMENTS=false (poolers in transaction mode).
import { randomUUID } from 'node:crypto';
import { expectData } from './support/graphql';
import { startTestServer } from './support/server';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created } }';

// One pooled connection: the session whose prepared statements are read is the one that served the requests.
async function preparedAfterRequests(preparedStatements: string): Promise<string[]> {
  const server = await startTestServer({ env: { DATABASE_POOL_SIZE: '1', DATABASE_PREPARED_STATEMENTS: preparedStatements } });
  try {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    const machine = await server.machineToken(['create:users']);
    for (let i = 0; i < 2; i += 1) await expectData(server, { query: ADD_USER, variables: { input: { auth0Id, name: `run ${i}` } }, token: machine });
    await expectData(server, { query: '{ me { auth0Id } }', token: await server.userToken(auth0Id) });
    const rows = await server.sql.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name', []);
    return rows.map((row) => row.name);
  } finally {
    await server.close();
  }
}

it('prepares addUser and the viewer lookup once per connection by default', async () => {
  expect(await preparedAfterRequests('true')).toEqual(['add_user_4', 'user_by_auth0_id']);
});

it('prepares nothing with DATABASE_PREPARED_STATEMENTS=false, and serves the same', async () => {
  expect(await preparedAfterRequests('false')).toEqual([]);
});
