// Resolvers for users: who may call, then hand off to the UsersService.
import type { MutationResolvers, QueryResolvers, UserChangeResolvers } from '../../generated/graphql';

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

export const updateUser: NonNullable<MutationResolvers['updateUser']> = async (_parent, { auth0Id, input }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.updateUsersScope);
  return services.users.updateUser(auth0Id, input);
};

export const deleteUser: NonNullable<MutationResolvers['deleteUser']> = async (_parent, { auth0Id }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.deleteUsersScope);
  return services.users.deleteUser(auth0Id);
};

export const updateMe: NonNullable<MutationResolvers['updateMe']> = async (_parent, { input }, { viewer, services }) =>
  services.users.updateMe(viewer.requireUser(), input);

export const userChanges: NonNullable<QueryResolvers['userChanges']> = (_parent, args, { viewer, services }) => {
  viewer.requireScope(services.config.auth.readUsersScope);
  return services.users.listChanges(args.auth0Id, args.first);
};

export const UserChange: UserChangeResolvers = {
  id: (change) => String(change.id),
  changes: (change) => change.changes as Record<string, unknown>,
};
