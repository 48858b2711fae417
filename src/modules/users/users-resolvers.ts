// Resolvers for users: who may call, then hand off to the UsersService.
import type { MutationResolvers, QueryResolvers } from '../../generated/graphql';

export const addUser: NonNullable<MutationResolvers['addUser']> = async (_parent, { input }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.createUsersScope);
  return services.users.upsertUserByAuth0Id(input);
};

export const me: NonNullable<QueryResolvers['me']> = (_parent, _args, { viewer, services }) => services.users.findOrProvision(viewer.requireUser());

export const user: NonNullable<QueryResolvers['user']> = (_parent, { auth0Id }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.readUsersScope);
  return services.users.findByAuth0Id(auth0Id);
};

export const users: NonNullable<QueryResolvers['users']> = (_parent, args, { viewer, services }) => {
  viewer.requireScope(services.config.auth.readUsersScope);
  return services.users.listPage(args);
};
