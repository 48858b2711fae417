// Batches the transaction pages of a list of users into one query per request (no N+1).
import DataLoader from 'dataloader';
import type { Transaction } from '../../generated/prisma/client';
import type { Page } from '../common/cursor';
import type { PageArgs, TransactionsService } from './transactions-service';

export interface PageRequest {
  userId: string;
  args: PageArgs;
}

export type TransactionPagesLoader = DataLoader<PageRequest, Page<Transaction>, string>;

export function createTransactionPagesLoader(transactions: TransactionsService): TransactionPagesLoader {
  return new DataLoader<PageRequest, Page<Transaction>, string>(
    async (requests) => {
      // Requests with the same arguments share one query; a cursor belongs to one user's list, so
      // requests with `after` are answered one by one.
      const groups = new Map<string, PageRequest[]>();
      for (const request of requests) {
        const key = request.args.after == null ? argsKey(request.args) : `${request.userId}:${argsKey(request.args)}`;
        groups.set(key, [...(groups.get(key) ?? []), request]);
      }
      const pages = new Map<PageRequest, Page<Transaction> | Error>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          try {
            const result = await transactions.pagesFor(group.map((request) => request.userId), group[0]!.args);
            for (const request of group) pages.set(request, result.get(request.userId)!);
          } catch (error) {
            for (const request of group) pages.set(request, error instanceof Error ? error : new Error(String(error)));
          }
        }),
      );
      return requests.map((request) => pages.get(request)!);
    },
    { cacheKeyFn: (request) => `${request.userId}:${argsKey(request.args)}` },
  );
}

function argsKey(args: PageArgs): string {
  return JSON.stringify([args.first ?? null, args.after ?? null, args.filter?.from ?? null, args.filter?.to ?? null, args.filter?.currency ?? null]);
}
