// The JSONObject scalar: a JSON object (Auth0's app_metadata / user_metadata), never an array or a primitive.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function parseObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GraphQLError('JSONObject must be a JSON object.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value as Record<string, unknown>;
}

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literal(field.value)]));
    case Kind.LIST:
      return ast.values.map(literal);
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    default:
      throw new GraphQLError('JSONObject literals cannot hold variables or enums.', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object, e.g. Auth0 metadata.',
  serialize: (value) => parseObject(value),
  parseValue: parseObject,
  parseLiteral: (ast) => parseObject(literal(ast)),
});
