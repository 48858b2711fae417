// schema.prisma and prisma/migrations must describe the same database.
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { parseSchema, schemaDrift } from './support/schema-drift';

let migrated: TestDatabase;
beforeAll(async () => {
  migrated = await createTestDatabase();
});
afterAll(() => migrated.drop());

it('the migrated database has every model, field, type, nullability, unique, index and foreign key of schema.prisma', async () => {
  const dmmf = await parseSchema();
  expect(dmmf.datamodel.models.length).toBeGreaterThan(0);
  const problems = await withClient(migrated.url, (client) => schemaDrift(dmmf, client));
  expect(problems).toEqual([]);
});

it('reports each kind of drift when the database and the schema disagree', async () => {
  const drifted = await createTestDatabase();
  try {
    const problems = await withClient(drifted.url, async (client) => {
      await client.query(`
        ALTER TABLE users ALTER COLUMN email SET NOT NULL;
        ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(100);
        DROP INDEX users_email_idx;
        DROP INDEX users_auth0_id_key;
        ALTER TABLE transactions DROP CONSTRAINT transactions_user_id_fkey;
        ALTER TABLE users ADD COLUMN nickname TEXT;
        CREATE TABLE stray (id INTEGER);`);
      return schemaDrift(await parseSchema(), client);
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'User.email (users.email): NOT NULL in the database, optional in the schema',
        'User.name (users.name): length is 100, schema says 255',
        'User: normal index on (email) is missing',
        'User: unique index on (auth0_id) is missing',
        'Transaction.user: foreign key (user_id) -> users is missing',
        'User: column users.nickname is not in schema.prisma',
        'table stray exists in the database but not in schema.prisma',
      ]),
    );
  } finally {
    await drifted.drop();
  }
});

it('compares Auth0 ids byte by byte (COLLATE "C") in users and user_changes, which schema.prisma cannot say', async () => {
  const collations = await withClient(migrated.url, async (client) =>
    (
      await client.query<{ column: string; collation: string }>(`
        SELECT c.relname || '.' || a.attname AS column, co.collname AS collation
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_collation co ON co.oid = a.attcollation
         WHERE a.attname = 'auth0_id' AND c.relname IN ('users', 'user_changes') ORDER BY 1`)
    ).rows,
  );
  expect(collations).toEqual([
    { column: 'user_changes.auth0_id', collation: 'C' },
    { column: 'users.auth0_id', collation: 'C' },
  ]);
});
