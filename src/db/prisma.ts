// The Prisma client factory: queries run through @prisma/adapter-pg, warnings go to our logger.
import { PrismaPg } from '@prisma/adapter-pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client';

export type { PrismaClient };

export interface PrismaOptions {
  connectionString: string;
  poolSize: number;
  /** Postgres cancels any statement running longer (statement_timeout). */
  statementTimeoutMs?: number;
  /** A request waits this long for a pooled connection (also when the database is unreachable). */
  poolTimeoutMs?: number;
  logger: Logger;
  /** Called with the SQL of every query (tests count them). */
  onQuery?: (sql: string) => void;
}

export function createPrismaClient({ connectionString, poolSize, statementTimeoutMs, poolTimeoutMs, logger, onQuery }: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString,
    max: poolSize,
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: poolTimeoutMs,
  });
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
