// Resolvers for users: who may call, then hand off to the UsersService.
import type { MutationResolvers } from '../../generated/graphql';

export const addUser: NonNullable<MutationResolvers['addUser']> = async (_parent, { input }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.createUsersScope);
  return services.users.upsertUserByAuth0Id(input);
};
