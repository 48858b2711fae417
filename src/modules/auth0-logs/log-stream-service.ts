// Applies Auth0 Log Streams events: deletions (sdu) and sign-ups/logins (ss, s), idempotent by log_id and safe out of order.
// The writes to `users` are the users module's (user-sync-writes.ts); this file owns auth0_log_events.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PrismaClient } from '../../db/prisma';
import { isAuth0Id, isEmailAddress } from '../users/user-input';
import { applyAuth0Deletion, applyAuth0SignIn } from '../users/user-sync-writes';

/** Postgres text cannot hold U+0000: such a value would fail the whole transaction, so it is invalid here. */
const storable = (max: number) => z.string().max(max).refine((value) => !value.includes('\u0000'), 'must not contain a NUL character');

const isStorableDate = (value: string): boolean => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
};

const LogEventSchema = z.object({
  log_id: storable(64).min(1),
  data: z.object({
    // Auth0's codes run past 16 characters (actions_execution_failed, appliance_configuration_api_status...).
    type: storable(64).min(1),
    // ISO 8601 allows what Postgres cannot store (year 0000, or 0001-01-01 with a positive offset);
    // past 9999 it is no real event either.
    date: z.iso.datetime({ offset: true }).refine(isStorableDate, 'must be a date between the years 1 and 9999'),
    // Any user id is recorded as given; only the events acted on need an Auth0 user id (see `actionable`).
    // Machine-to-machine events (seccft, an Action's own token requests) carry "": no user.
    user_id: storable(255)
      .optional()
      .transform((value) => (value === '' ? undefined : value)),
    user_name: storable(320).optional(),
    connection: storable(255).optional(),
  }),
});

type LogEvent = z.infer<typeof LogEventSchema>;

export interface BatchResult {
  applied: number;
  duplicates: number;
  ignored: number;
  invalid: number;
}

/** The event types this service acts on; every other type is recorded and ignored. */
const HANDLED = new Set(['sdu', 'ss', 's']);

/** An event of a type acted on must name an Auth0 user; any other event is only recorded. */
const actionable = (event: LogEvent): boolean => !HANDLED.has(event.data.type) || (event.data.user_id !== undefined && isAuth0Id(event.data.user_id));

export class LogStreamService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  async applyBatch(items: unknown[]): Promise<BatchResult> {
    const result: BatchResult = { applied: 0, duplicates: 0, ignored: 0, invalid: 0 };
    for (const item of items) {
      const parsed = LogEventSchema.safeParse(item);
      if (!parsed.success || !actionable(parsed.data)) {
        result.invalid += 1;
        continue;
      }
      try {
        result[await this.apply(parsed.data)] += 1;
      } catch (error) {
        // A value Postgres refuses costs this event only; a database that is down still fails the batch (Auth0 resends it).
        if (!refusedByPostgres(error)) throw error;
        this.logger.warn({ module: 'auth0-logs', logId: parsed.data.log_id, type: parsed.data.data.type, sqlState: sqlStateOf(error) }, 'log event refused by the database; counted invalid');
        result.invalid += 1;
      }
    }
    return result;
  }

  /** One event in one transaction with its log_id, so a replay or a crash never applies it twice. */
  private apply(event: LogEvent): Promise<'applied' | 'duplicates' | 'ignored'> {
    const { type, user_id: userId } = event.data;
    const at = new Date(event.data.date);
    return this.prisma.$transaction(async (tx) => {
      const recorded = await tx.$executeRaw`
        INSERT INTO auth0_log_events (log_id, type, user_id, occurred_at) VALUES (${event.log_id}, ${type}, ${userId ?? null}, ${at})
        ON CONFLICT (log_id) DO NOTHING`;
      if (recorded === 0) return 'duplicates';
      if (!HANDLED.has(type) || !userId) return 'ignored';
      if (type === 'sdu') {
        await applyAuth0Deletion(tx, userId, at);
        return 'applied';
      }
      const email = event.data.user_name && isEmailAddress(event.data.user_name) ? event.data.user_name : null;
      await applyAuth0SignIn(tx, { auth0Id: userId, email, connection: event.data.connection ?? null, at });
      return 'applied';
    });
  }
}

/** The SQLSTATE of a Postgres error, through Prisma's driver adapter wrapping. */
function sqlStateOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { kind?: unknown; code?: unknown; cause?: unknown; meta?: { driverAdapterError?: { cause?: unknown } } };
    if (e.kind === 'postgres' && typeof e.code === 'string') return e.code;
    current = e.meta?.driverAdapterError?.cause ?? e.cause;
  }
  return undefined;
}

/** Data exceptions (22: a value out of range, a bad encoding) and integrity constraints (23): the event, not the database. */
const refusedByPostgres = (error: unknown): boolean => /^(22|23)/.test(sqlStateOf(error) ?? '');
