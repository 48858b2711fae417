// Owns the transactions table: keyset pages (batched across users), writes scoped to their owner, summaries in SQL.
import { Prisma, type Transaction } from '../../generated/prisma/client';
import type { PrismaClient } from '../../db/prisma';
import { INT8_AS_BIGINT, type SqlClient } from '../../db/sql';
import { notFound } from '../../errors';
import { CursorCodec, pageSize, toPage, type CursorKey, type Page } from '../common/cursor';
import {
  CreateTransactionSchema,
  parseInput,
  parseTransactionId,
  PeriodSchema,
  UpdateTransactionSchema,
  type Period,
} from './transaction-input';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  filter?: { from?: Date | null; to?: Date | null; currency?: string | null } | null;
}

export interface CurrencySummary {
  currency: string;
  count: number;
  totalMinor: bigint;
  incomeMinor: bigint;
  spendingMinor: bigint;
}

const TRANSACTION_COLUMNS = Prisma.sql`t.id, t.user_id AS "userId", t.amount_minor AS "amountMinor", t.currency,
  t.description, t.occurred_at AS "occurredAt", t.created_at AS "createdAt"`;

export class TransactionsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlClient,
    private readonly cursors: CursorCodec,
  ) {}

  static listOf(userId: string): string {
    return `transactions:${userId}`;
  }

  /**
   * One page for each user, newest first, in a single query: a LATERAL keyset scan of the
   * (user_id, occurred_at DESC, id DESC) index per user, so page 10,000 costs what page 1 costs.
   */
  async pagesFor(userIds: readonly string[], args: PageArgs): Promise<Map<string, Page<Transaction>>> {
    const size = pageSize(args.first);
    const period = parseInput(PeriodSchema, args.filter, 'filter');
    const after = args.after == null ? undefined : userIds.map((userId) => this.cursors.decode(args.after as string, TransactionsService.listOf(userId)));
    // Every page request runs this: plain pg, planned for the user it reads (not prepared).
    const query = this.pageQuery(userIds, size, period, after?.[0]);
    const rows = await this.sql.query<Transaction>(query.text, query.values, INT8_AS_BIGINT);
    const byUser = new Map<string, Transaction[]>(userIds.map((userId) => [userId, []]));
    for (const row of rows) byUser.get(row.userId)?.push(row);
    return new Map(
      [...byUser].map(([userId, userRows]) => [
        userId,
        toPage(userRows, size, (row) => this.cursors.encode(TransactionsService.listOf(userId), [row.occurredAt.toISOString(), row.id])),
      ]),
    );
  }

  /**
   * The SQL of a page, exposed so that a test can EXPLAIN exactly what runs. One user is a plain
   * `user_id = $1` query, so the planner sees that user's statistics (a heavy user gets an index
   * scan that stops after the page); several users share one LATERAL query.
   */
  pageQuery(userIds: readonly string[], size: number, period: Period, after?: CursorKey): Prisma.Sql {
    const only = userIds.length === 1 ? userIds[0] : undefined;
    const conditions = [only ? Prisma.sql`t.user_id = ${only}::uuid` : Prisma.sql`t.user_id = u.id`];
    if (period.from) conditions.push(Prisma.sql`t.occurred_at >= ${period.from}::timestamptz`);
    if (period.to) conditions.push(Prisma.sql`t.occurred_at < ${period.to}::timestamptz`);
    if (period.currency) conditions.push(Prisma.sql`t.currency = ${period.currency}`);
    if (after) conditions.push(Prisma.sql`(t.occurred_at, t.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
    const page = Prisma.sql`
      SELECT ${TRANSACTION_COLUMNS} FROM transactions t
       WHERE ${Prisma.join(conditions, ' AND ')}
       ORDER BY t.occurred_at DESC, t.id DESC
       LIMIT ${size + 1}`;
    if (only) return page;
    return Prisma.sql`SELECT p.* FROM unnest(${[...userIds]}::uuid[]) AS u(id) CROSS JOIN LATERAL (${page}) p`;
  }

  async create(userId: string, rawInput: unknown): Promise<Transaction> {
    const input = parseInput(CreateTransactionSchema, rawInput, 'input');
    return this.prisma.transaction.create({
      data: { userId, amountMinor: input.amountMinor, currency: input.currency, description: input.description ?? null, occurredAt: input.occurredAt },
    });
  }

  /** Updates the transaction only if it belongs to the user; otherwise NOT_FOUND, as for a missing id. */
  async update(userId: string, rawId: string, rawInput: unknown): Promise<Transaction> {
    const id = parseTransactionId(rawId);
    const input = parseInput(UpdateTransactionSchema, rawInput, 'input');
    const data: Prisma.TransactionUpdateManyMutationInput = {};
    if (input.amountMinor != null) data.amountMinor = input.amountMinor;
    if (input.currency != null) data.currency = input.currency;
    if (input.occurredAt != null) data.occurredAt = input.occurredAt;
    if (input.description !== undefined) data.description = input.description;
    const [updated] = await this.prisma.transaction.updateManyAndReturn({ where: { id, userId }, data });
    if (!updated) throw notFound('Transaction');
    return updated;
  }

  async delete(userId: string, rawId: string): Promise<string> {
    const id = parseTransactionId(rawId);
    const { count } = await this.prisma.transaction.deleteMany({ where: { id, userId } });
    if (count === 0) throw notFound('Transaction');
    return id;
  }

  /** Totals and counts per currency over [from, to), summed by Postgres. */
  async summary(userId: string, rawPeriod: unknown): Promise<CurrencySummary[]> {
    const period = parseInput(PeriodSchema, rawPeriod, '');
    const conditions = [Prisma.sql`user_id = ${userId}::uuid`];
    if (period.from) conditions.push(Prisma.sql`occurred_at >= ${period.from}::timestamptz`);
    if (period.to) conditions.push(Prisma.sql`occurred_at < ${period.to}::timestamptz`);
    const rows = await this.prisma.$queryRaw<Array<{ currency: string; count: number; total: string; income: string; spending: string }>>`
      SELECT currency, COUNT(*)::int AS count, SUM(amount_minor)::text AS total,
             COALESCE(SUM(amount_minor) FILTER (WHERE amount_minor > 0), 0)::text AS income,
             COALESCE(SUM(amount_minor) FILTER (WHERE amount_minor < 0), 0)::text AS spending
        FROM transactions WHERE ${Prisma.join(conditions, ' AND ')}
       GROUP BY currency ORDER BY currency`;
    return rows.map((row) => ({
      currency: row.currency,
      count: row.count,
      totalMinor: BigInt(row.total),
      incomeMinor: BigInt(row.income),
      spendingMinor: BigInt(row.spending),
    }));
  }
}
