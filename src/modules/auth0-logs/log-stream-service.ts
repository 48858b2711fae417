// Applies Auth0 Log Streams events: deletions (sdu) and sign-ups/logins (ss, s), idempotent by log_id and safe out of order.
import { z } from 'zod';
import type { PrismaClient } from '../../db/prisma';
import { Auth0IdSchema, isEmailAddress } from '../users/user-input';

const LogEventSchema = z.object({
  log_id: z.string().min(1).max(64),
  data: z.object({
    type: z.string().min(1).max(16),
    date: z.iso.datetime({ offset: true }),
    user_id: Auth0IdSchema.optional(),
    user_name: z.string().max(320).optional(),
    connection: z.string().max(255).optional(),
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

export class LogStreamService {
  constructor(private readonly prisma: PrismaClient) {}

  async applyBatch(items: unknown[]): Promise<BatchResult> {
    const result: BatchResult = { applied: 0, duplicates: 0, ignored: 0, invalid: 0 };
    for (const item of items) {
      const parsed = LogEventSchema.safeParse(item);
      if (!parsed.success) {
        result.invalid += 1;
        continue;
      }
      result[await this.apply(parsed.data)] += 1;
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
        // A deletion of a user not seen yet leaves a tombstone, so that a late sign-up event cannot bring them back.
        await tx.$executeRaw`
          INSERT INTO users (auth0_id, deleted_at, last_event_at) VALUES (${userId}, ${at}, ${at})
          ON CONFLICT (auth0_id) DO UPDATE SET
            deleted_at = LEAST(COALESCE(users.deleted_at, EXCLUDED.deleted_at), EXCLUDED.deleted_at),
            last_event_at = GREATEST(users.last_event_at, EXCLUDED.last_event_at),
            updated_at = now()`;
        return 'applied';
      }
      const email = event.data.user_name && isEmailAddress(event.data.user_name) ? event.data.user_name : null;
      // Ensure the user exists; an event older than what was already applied changes nothing.
      await tx.$executeRaw`
        INSERT INTO users (auth0_id, email, connection, last_event_at) VALUES (${userId}, ${email}, ${event.data.connection ?? null}, ${at})
        ON CONFLICT (auth0_id) DO UPDATE SET
          email = COALESCE(EXCLUDED.email, users.email),
          connection = COALESCE(users.connection, EXCLUDED.connection),
          last_event_at = EXCLUDED.last_event_at,
          updated_at = now()
        WHERE users.last_event_at IS NULL OR users.last_event_at < EXCLUDED.last_event_at`;
      return 'applied';
    });
  }
}
