// The JSONObject scalar: output only, a plain JSON object such as a user's metadata.
import { GraphQLError, GraphQLScalarType } from 'graphql';

export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object, answered as is.',
  serialize(value) {
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new GraphQLError('JSONObject cannot represent a non-object value.');
  },
  parseValue() {
    throw new GraphQLError('JSONObject is an output type only.', { extensions: { code: 'BAD_USER_INPUT' } });
  },
  parseLiteral() {
    throw new GraphQLError('JSONObject is an output type only.', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
