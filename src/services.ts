// The services the resolvers hand their work to, built once per app.
import type { Config } from './config';
import type { PrismaClient } from './db/prisma';
import { CursorCodec } from './modules/common/cursor';
import { TransactionsService } from './modules/transactions/transactions-service';
import { UsersService } from './modules/users/users-service';

export interface Services {
  users: UsersService;
  transactions: TransactionsService;
  config: Config;
}

export function createServices(config: Config, prisma: PrismaClient): Services {
  const cursors = new CursorCodec(config.cursorSecret);
  return {
    users: new UsersService(prisma, cursors, config.auth.claimsNamespace),
    transactions: new TransactionsService(prisma, cursors),
    config,
  };
}
