// Refuses, before execution, request input that Postgres cannot store or that would overflow the stack: NUL characters and deep JSON.
import type { ApolloServerPlugin } from '@apollo/server';
import { BREAK, Kind, visit, type ASTNode, type DocumentNode, type StringValueNode } from 'graphql';
import type { GraphQLContext } from './context';
import { badUserInput } from './errors';
import { findUnstorableJson, JSON_MAX_DEPTH, NUL_PROBLEM } from './modules/common/json-limits';

/**
 * Postgres text and jsonb cannot hold U+0000: a NUL in any string argument (an `auth0Id`, a
 * cursor, a metadata key) failed in Postgres and was answered INTERNAL_SERVER_ERROR, after the
 * resolver had already run. Deep JSON in a variable overflowed the stack of recursive code (the
 * metadata size check's JSON.stringify). Every variable and every string literal of the document
 * is checked here, for every field at once, once the operation is resolved and before anything
 * runs: BAD_USER_INPUT naming the place (the variable, or the argument, then the keys within it, e.g.
 * `input.name`), and nothing reaches a resolver or the database.
 *
 * The variables may nest a few levels more than a JSONObject value (JSON_MAX_DEPTH, checked again
 * by the scalar), for the input objects around it.
 */
export const VARIABLES_MAX_DEPTH = JSON_MAX_DEPTH + 4;

export function refuseUnstorableInput(): ApolloServerPlugin<GraphQLContext> {
  // Apollo hands the same parsed document to every request with the same text (its document
  // cache): its literals are walked once, not on every request.
  const literalsWithNul = new WeakMap<DocumentNode, string | null>();
  const stringLiteralWithNulOf = (document: DocumentNode): string | null => {
    let found = literalsWithNul.get(document);
    if (found === undefined) literalsWithNul.set(document, (found = stringLiteralWithNul(document) ?? null));
    return found;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const unstorable = findUnstorableJson(request.variables ?? {}, VARIABLES_MAX_DEPTH);
          if (unstorable) throw badUserInput(unstorable.path.join('.'), unstorable.problem);
          const literal = stringLiteralWithNulOf(document);
          if (literal) throw badUserInput(literal, NUL_PROBLEM);
        },
      };
    },
  };
}

/** Where the first string literal holding a NUL is: its argument and the object fields within it, e.g. `input.name`. */
function stringLiteralWithNul(document: DocumentNode): string | undefined {
  let found: string | undefined;
  // graphql-js's visit keeps its own stack; the document is bounded by the parser's token limit.
  visit(document, {
    StringValue(node: StringValueNode, _key, parent, _path, ancestors) {
      if (!node.value.includes('\u0000')) return undefined;
      // The ancestors stop before the parent: the argument or object field that holds the string.
      found = placeOf(parent === undefined ? ancestors : [...ancestors, parent]) || 'a string literal';
      return BREAK;
    },
  });
  return found;
}

function placeOf(ancestors: ReadonlyArray<ASTNode | ReadonlyArray<ASTNode>>): string {
  const names: string[] = [];
  for (const ancestor of ancestors) {
    if (Array.isArray(ancestor) || !('kind' in ancestor)) continue;
    const node = ancestor as ASTNode;
    if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) names.push(node.name.value);
  }
  return names.join('.');
}
