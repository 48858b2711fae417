// The services the resolvers hand their work to, built once per app.
import type { Config } from './config';
import type { PrismaClient } from './db/prisma';
import { CursorCodec } from './modules/common/cursor';
import { LegacyService } from './modules/legacy/legacy-service';
import { TransactionsService } from './modules/transactions/transactions-service';
import { UsersService } from './modules/users/users-service';

export interface Services {
  users: UsersService;
  transactions: TransactionsService;
  legacy: LegacyService;
  config: Config;
}

export function createServices(config: Config, prisma: PrismaClient): Services {
  const cursors = new CursorCodec(config.cursorSecret);
  return {
    users: new UsersService(prisma, cursors, config.auth.claimsNamespace),
    transactions: new TransactionsService(prisma, cursors),
    legacy: new LegacyService(prisma, {
      perEmail: { maxFailures: config.legacyAttempts.perEmail, windowMs: config.legacyAttempts.windowMs },
      perAddress: { maxFailures: config.legacyAttempts.perAddress, windowMs: config.legacyAttempts.windowMs },
      perClient: { maxFailures: config.legacyAttempts.perClient, windowMs: config.legacyAttempts.windowMs },
    }),
    config,
  };
}
