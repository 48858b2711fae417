// The JSONObject scalar: a JSON object (Auth0's app_metadata / user_metadata), never an array or a primitive.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { findUnstorableJson, JSON_MAX_DEPTH } from './json-limits';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function requireObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badInput('JSONObject must be a JSON object.');
  return value as Record<string, unknown>;
}

function parseObject(value: unknown): Record<string, unknown> {
  requireObject(value);
  // Checked before anything recursive (the metadata size check's JSON.stringify, Prisma, pg) sees it.
  const unstorable = findUnstorableJson(value);
  if (unstorable) throw badInput(`JSONObject ${unstorable.path.length > 0 ? `at ${unstorable.path.join('.')} ` : ''}${unstorable.problem}.`);
  return value as Record<string, unknown>;
}

// Recursive over the document's own nodes, so bounded by the parser's token limit, and stopped at the
// depth limit: a deeper literal makes the document invalid (GRAPHQL_VALIDATION_FAILED).
function literal(ast: ValueNode, depth: number): unknown {
  if ((ast.kind === Kind.OBJECT || ast.kind === Kind.LIST) && depth >= JSON_MAX_DEPTH) {
    throw badInput(`JSONObject nests deeper than ${JSON_MAX_DEPTH} levels.`);
  }
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literal(field.value, depth + 1)]));
    case Kind.LIST:
      return ast.values.map((value) => literal(value, depth + 1));
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    default:
      throw badInput('JSONObject literals cannot hold variables or enums.');
  }
}

export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object, e.g. Auth0 metadata.',
  // What is answered was stored already: only its shape is checked.
  serialize: requireObject,
  parseValue: parseObject,
  // A literal's strings are checked for NUL with every other string literal of the document
  // (graphql-input-guard.ts), so that they are refused alike, as BAD_USER_INPUT.
  parseLiteral: (ast) => requireObject(literal(ast, 0)),
});
