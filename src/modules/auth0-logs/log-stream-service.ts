// Applies Auth0 Log Streams events: deletions (sdu) and sign-ups/logins (ss, s), idempotent by log_id and safe out of order.
// The writes to `users` are the users module's (user-sync-writes.ts); this file owns auth0_log_events.
import { z } from 'zod';
import type { PrismaClient } from '../../db/prisma';
import { Auth0IdSchema, isEmailAddress } from '../users/user-input';
import { applyAuth0Deletion, applyAuth0SignIn } from '../users/user-sync-writes';

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
        await applyAuth0Deletion(tx, userId, at);
        return 'applied';
      }
      const email = event.data.user_name && isEmailAddress(event.data.user_name) ? event.data.user_name : null;
      await applyAuth0SignIn(tx, { auth0Id: userId, email, connection: event.data.connection ?? null, at });
      return 'applied';
    });
  }
}
