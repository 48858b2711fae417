// Resolvers for transactions: who may read or write them, then hand off to the TransactionsService.
import type { User } from '../../generated/prisma/client';
import type { GraphQLContext } from '../../context';
import { forbidden } from '../../errors';
import type { MutationResolvers, UserResolvers } from '../../generated/graphql';

/** The user themself, or a machine client granted the read-transactions scope. */
function requireTransactionsReader({ viewer, services }: GraphQLContext, owner: User): void {
  if (viewer.kind === 'user') {
    if (viewer.auth0Id !== owner.auth0Id) throw forbidden('You can read only your own transactions.');
    return;
  }
  viewer.requireScope(services.config.auth.readTransactionsScope);
}

export const transactions: NonNullable<UserResolvers['transactions']> = (user, args, context) => {
  requireTransactionsReader(context, user);
  return context.loaders.transactionPages.load({ userId: user.id, args });
};

export const transactionSummary: NonNullable<UserResolvers['transactionSummary']> = (user, args, context) => {
  requireTransactionsReader(context, user);
  return context.services.transactions.summary(user.id, args);
};

export const createTransaction: NonNullable<MutationResolvers['createTransaction']> = async (_parent, { input }, { viewer, services }) => {
  const user = await services.users.findOrProvision(viewer.requireUser());
  return services.transactions.create(user.id, input);
};

export const updateTransaction: NonNullable<MutationResolvers['updateTransaction']> = async (_parent, { id, input }, { viewer, services }) => {
  const user = await services.users.findOrProvision(viewer.requireUser());
  return services.transactions.update(user.id, id, input);
};

export const deleteTransaction: NonNullable<MutationResolvers['deleteTransaction']> = async (_parent, { id }, { viewer, services }) => {
  const user = await services.users.findOrProvision(viewer.requireUser());
  return { deletedId: await services.transactions.delete(user.id, id) };
};
