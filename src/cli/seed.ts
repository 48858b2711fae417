// `npm run db:seed`: a few users with transactions in the local database, so a newcomer sees data at once.
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createPrismaClient } from '../db/prisma';
import { createLogger } from '../logger';

const SEED_USERS = [
  { auth0Id: 'google-oauth2|seed-ada', email: 'ada@example.com', name: 'Ada Lovelace', connection: 'google-oauth2' },
  { auth0Id: 'auth0|seed-grace', email: 'grace@example.com', name: 'Grace Hopper', connection: 'Username-Password-Authentication' },
  { auth0Id: 'google-oauth2|seed-alan', email: 'alan@example.com', name: 'Alan Turing', connection: 'google-oauth2' },
];

const PAYEES = ['Coffee', 'Groceries', 'Rent', 'Salary', 'Books', 'Train ticket', 'Restaurant', 'Refund'];

// Deterministic, so that a re-run adds nothing and everyone sees the same data.
function transactionsFor(userIndex: number) {
  return Array.from({ length: 40 }, (_, i) => {
    const payee = PAYEES[(i + userIndex) % PAYEES.length]!;
    const income = payee === 'Salary' || payee === 'Refund';
    return {
      amountMinor: BigInt((income ? 1 : -1) * (((i * 7919 + userIndex * 104729) % 9000) + 150)),
      currency: i % 5 === 0 ? 'USD' : 'EUR',
      description: payee,
      occurredAt: new Date(Date.UTC(2026, 9, 1) + i * 36 * 3600 * 1000),
    };
  });
}

async function seed(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log);
  const database = await openDatabase(config.database, logger);
  try {
    await applyMigrations({ connectionString: database.connectionString, logger });
    const prisma = createPrismaClient({ connectionString: database.connectionString, poolSize: 2, logger });
    try {
      for (const [index, profile] of SEED_USERS.entries()) {
        const user = await prisma.user.upsert({ where: { auth0Id: profile.auth0Id }, create: { ...profile, emailVerified: true }, update: {} });
        if ((await prisma.transaction.count({ where: { userId: user.id } })) === 0) {
          await prisma.transaction.createMany({ data: transactionsFor(index).map((row) => ({ ...row, userId: user.id })) });
        }
      }
      const counts = { users: await prisma.user.count(), transactions: await prisma.transaction.count() };
      process.stdout.write(
        `Seeded ${SEED_USERS.length} users with 40 transactions each (database now holds ${counts.users} users, ${counts.transactions} transactions).\n` +
          `Try one as that user:  TOKEN=$(npm run -s token -- --user '${SEED_USERS[0]!.auth0Id}')\n`,
      );
    } finally {
      await prisma.$disconnect();
    }
  } finally {
    await database.close();
  }
}

seed().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
