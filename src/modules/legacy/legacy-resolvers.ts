// Resolvers for the custom database scripts and the Post Login Action: who may call, then the LegacyService.
import type { MutationResolvers, QueryResolvers } from '../../generated/graphql';

export const verifyLegacyPassword: NonNullable<MutationResolvers['verifyLegacyPassword']> = (_parent, { input }, { viewer, services, logger }) => {
  const machine = viewer.requireScope(services.config.auth.migrateUsersScope);
  return services.legacy.verifyPassword(input, machine, logger);
};

export const legacyUser: NonNullable<QueryResolvers['legacyUser']> = (_parent, { email }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.migrateUsersScope);
  return services.legacy.findProfileByEmail(email);
};

export const legacyUserByAuth0Id: NonNullable<QueryResolvers['legacyUserByAuth0Id']> = (_parent, { auth0Id }, { viewer, services }) => {
  viewer.requireScope(services.config.auth.migrateUsersScope);
  return services.legacy.findProfileByAuth0Id(auth0Id);
};
