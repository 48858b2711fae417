// Resolvers for the caller's own view of their token.
import type { QueryResolvers } from '../../generated/graphql';

export const viewer: NonNullable<QueryResolvers['viewer']> = (_parent, _args, { viewer }) => ({
  kind: viewer.kind === 'machine' ? 'MACHINE' : 'USER',
  subject: viewer.claims.sub ?? '',
  scopes: [...viewer.scopes],
});
