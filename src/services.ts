// The services the resolvers hand their work to, built once per app.
import type { Config } from './config';
import type { Logger } from 'pino';
import type { PrismaClient } from './db/prisma';
import type { SqlClient } from './db/sql';
import { Auth0UsersApi } from './modules/users/auth0-users-api';
import { UserWriteBack } from './modules/users/user-write-back';
import { CursorCodec } from './modules/common/cursor';
import { LegacyService } from './modules/legacy/legacy-service';
import { TransactionsService } from './modules/transactions/transactions-service';
import { UsersService } from './modules/users/users-service';

export interface Services {
  /** The Management API's users endpoints, when AUTH0_MGMT_CLIENT_ID/SECRET are set. */
  auth0Users: Auth0UsersApi | undefined;
  users: UsersService;
  transactions: TransactionsService;
  legacy: LegacyService;
  config: Config;
}

export function createServices(config: Config, prisma: PrismaClient, sql: SqlClient, logger: Logger): Services {
  const cursors = new CursorCodec(config.cursorSecret);
  const auth0Users = config.writeBack ? new Auth0UsersApi(config.writeBack.management) : undefined;
  const writeBack = new UserWriteBack({
    prisma,
    api: auth0Users,
    missingSettings: config.writeBackMissingSettings,
    auth0TimeoutMs: config.writeBack?.management.timeoutMs ?? 0,
    maxInFlight: config.writeBack?.maxInFlight ?? 1,
    statementTimeoutMs: config.database.statementTimeoutMs,
    poolTimeoutMs: config.database.poolTimeoutMs,
    logger: logger.child({ module: 'users-write-back' }),
  });
  return {
    auth0Users,
    users: new UsersService(prisma, sql, cursors, config.auth.claimsNamespace, writeBack),
    transactions: new TransactionsService(prisma, sql, cursors),
    legacy: new LegacyService(prisma, {
      perEmail: { maxFailures: config.legacyAttempts.perEmail, windowMs: config.legacyAttempts.windowMs },
      perAddress: { maxFailures: config.legacyAttempts.perAddress, windowMs: config.legacyAttempts.windowMs },
      perClient: { maxFailures: config.legacyAttempts.perClient, windowMs: config.legacyAttempts.windowMs },
    }, logger),
    config,
  };
}
