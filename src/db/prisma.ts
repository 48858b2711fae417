// The Prisma client factory: queries run through @prisma/adapter-pg, warnings go to our logger.
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client';
import { reportIdleConnectionError } from './idle-connection-error';
import { SqlClient } from './sql';

export type { PrismaClient };

export interface PrismaOptions {
  connectionString: string;
  poolSize: number;
  /** Whether the hot paths' statements are prepared (named) per connection; on by default. */
  preparedStatements?: boolean;
  /** Postgres cancels any statement running longer (statement_timeout). */
  statementTimeoutMs?: number;
  /** A request waits this long for a pooled connection (also when the database is unreachable). */
  poolTimeoutMs?: number;
  logger: Logger;
  /** Called with the SQL of every query (tests count them). */
  onQuery?: (sql: string) => void;
}

export interface DatabaseClients {
  prisma: PrismaClient;
  /** The hot paths' plain SQL, on the same pool as Prisma. */
  sql: SqlClient;
  /** Disconnects Prisma and ends the pool (whether or not Prisma ever connected). */
  close(): Promise<void>;
}

/** Prisma and the hot paths' SQL client on one pool of `poolSize` connections. */
export function createDatabaseClients(options: PrismaOptions): DatabaseClients {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.poolTimeoutMs,
  });
  // An idle connection that dies (Postgres restarted) is dropped by the pool; unheard, the error
  // would end the process. Prisma adds its own listener only once it has connected.
  const log = options.logger.child({ module: 'database-pool' });
  pool.on('error', (error) => reportIdleConnectionError(log, error));
  const prisma = prismaOn(new PrismaPg(pool), options);
  return {
    prisma,
    sql: new SqlClient(pool, { prepare: options.preparedStatements ?? true, onQuery: options.onQuery }),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** Prisma alone, on a pool of its own that `$disconnect()` ends (the command-line tools). */
export function createPrismaClient(options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.connectionString,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.poolTimeoutMs,
  });
  return prismaOn(adapter, options);
}

function prismaOn(adapter: PrismaPg, { logger, onQuery }: PrismaOptions): PrismaClient {
  const prisma = new PrismaClient({
    adapter,
    log: [
      { emit: 'event', level: 'warn' },
      { emit: 'event', level: 'error' },
      ...(onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : []),
    ],
  });
  if (onQuery) prisma.$on('query' as never, (event: { query: string }) => onQuery(event.query));
  const log = logger.child({ module: 'prisma' });
  prisma.$on('warn', (event) => log.warn({ target: event.target }, event.message));
  prisma.$on('error', (event) => log.error({ target: event.target }, event.message));
  return prisma;
}
