// A typed GraphQL helper: posts an operation and, on a surprise, shows the operation, body and request id.
import type { TestServer } from './server';

export interface GraphQLErrorBody {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  requestId: string;
  headers: Record<string, string>;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export interface Operation {
  query: string;
  variables?: Record<string, unknown>;
  /** Sent only when set: the operation of the document to run. */
  operationName?: string;
  /** A bearer token; `null` sends no Authorization header. */
  token: string | null;
  /** The Accept header; unset sends none, which the server answers as `application/json`. */
  accept?: string;
}

/** The GraphQL-over-HTTP media types: errors before execution are a 200 in the first, a 400 in the second. */
export const MEDIA_TYPES = ['application/json', 'application/graphql-response+json'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** The status the spec gives a document that cannot run (parse, validation, variable coercion). */
export const REQUEST_ERROR_STATUS: Record<MediaType, number> = { 'application/json': 200, 'application/graphql-response+json': 400 };

export async function graphql<T = Record<string, unknown>>(server: Pick<TestServer, 'request'>, operation: Operation): Promise<GraphQLResponse<T>> {
  let request = server.request().post('/graphql').set('content-type', 'application/json');
  if (operation.token !== null) request = request.set('authorization', `Bearer ${operation.token}`);
  if (operation.accept !== undefined) request = request.set('accept', operation.accept);
  const response = await request.send({ query: operation.query, variables: operation.variables ?? {}, ...(operation.operationName === undefined ? {} : { operationName: operation.operationName }) });
  const body = (response.body ?? {}) as { data?: T | null; errors?: GraphQLErrorBody[] };
  return {
    status: response.status,
    requestId: String(response.headers['x-request-id'] ?? ''),
    headers: response.headers as Record<string, string>,
    data: body.data,
    errors: body.errors,
  };
}

function describe(operation: Operation, response: GraphQLResponse<unknown>): string {
  return [
    `operation: ${operation.query.replace(/\s+/g, ' ').trim()}`,
    `variables: ${JSON.stringify(operation.variables ?? {})}`,
    `status: ${response.status}, request id: ${response.requestId}`,
    `body: ${JSON.stringify({ data: response.data, errors: response.errors })}`,
  ].join('\n');
}

/** Runs the operation and returns its data, failing with the whole exchange if there were errors. */
export async function expectData<T>(server: Pick<TestServer, 'request'>, operation: Operation): Promise<T> {
  const response = await graphql<T>(server, operation);
  if (response.status !== 200 || response.errors?.length || response.data == null) {
    throw new Error(`Expected data without errors:\n${describe(operation, response)}`);
  }
  return response.data;
}

/** Runs the operation and returns its single error, failing with the whole exchange otherwise. */
export async function expectError(server: Pick<TestServer, 'request'>, operation: Operation, code: string): Promise<GraphQLErrorBody & { response: GraphQLResponse<unknown> }> {
  const response = await graphql(server, operation);
  const error = response.errors?.[0];
  if (!error || error.extensions?.code !== code) {
    throw new Error(`Expected an error with code ${code}:\n${describe(operation, response)}`);
  }
  return { ...error, response };
}
