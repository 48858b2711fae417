// Builds the Express app and the Apollo server from their dependencies; nothing here listens.
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { makeExecutableSchema } from '@graphql-tools/schema';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import Negotiator from 'negotiator';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { DevIssuer } from './auth/dev-issuer';
import { refuseTokensOutsideTheHeader, requireToken, requireValidClaims, tokenErrorHandler, viewerOf } from './auth/require-token';
import type { Config } from './config';
import { createLoaders, type GraphQLContext } from './context';
import type { PrismaClient } from './db/prisma';
import { ALWAYS_READY, type Readiness } from './db/readiness';
import type { SqlClient } from './db/sql';
import { isDatabaseUnavailable } from './db/unavailable';
import { refuseUnstorableInput } from './graphql-input-guard';
import { graphqlJitGateway } from './graphql-jit-executor';
import { graphqlHandler } from './http/graphql-handler';
import { inSequence } from './http/in-sequence';
import { shedLoad } from './http/load-shedding';
import { logRequests } from './http/request-log';
import { limitFailedTokensPerIp, limitPerSubject } from './http/rate-limits';
import { KNOWN_CODES } from './errors';
import { LogStreamService } from './modules/auth0-logs/log-stream-service';
import { logStreamWebhook } from './modules/auth0-logs/log-stream-webhook';
import { loadTypeDefs, resolvers } from './schema';
import { createServices, type Services } from './services';
import { devManagementApi, withDevTenantCredentials } from './auth/dev-management-api';
import { countPendingSqlChanges } from './modules/users/pending-sql-changes';

export interface AppDependencies {
  config: Config;
  prisma: PrismaClient;
  /** The hot paths' SQL, on Prisma's pool (createDatabaseClients). */
  sql: SqlClient;
  logger: Logger;
  /** The local development issuer, mounted at the root when given (never in production). */
  devIssuer?: DevIssuer;
  /** Whether the database has been reached and migrated; until then /graphql answers 503. */
  readiness?: Readiness;
}

// Codes that describe the client's own request; everything else is masked as internal.
const CLIENT_ERROR_CODES = new Set([
  ...KNOWN_CODES,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const RETRY_AFTER_SECONDS = '5';
const UNAVAILABLE = { message: 'The database is unavailable; retry shortly.', extensions: { code: 'UNAVAILABLE' } };

export async function createApp({ config, prisma, sql, logger, devIssuer, readiness = ALWAYS_READY }: AppDependencies): Promise<{ app: Express; apollo: ApolloServer<GraphQLContext>; services: Services }> {
  const services = createServices(withDevTenantCredentials(config, devIssuer), prisma, sql, logger);
  const { limits } = config.graphql;
  // Hostile documents are refused at parse or validation time, before anything executes.
  const armor = new ApolloArmor({
    maxDepth: { n: limits.depth },
    maxAliases: { n: limits.aliases },
    // graphql-js counts tokens while parsing (parseOptions below); armor's plugin would throw from a
    // parsing hook, which Apollo answers with a 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.directives },
    costLimit: { maxCost: limits.cost },
    blockFieldSuggestion: { enabled: !config.graphql.fieldSuggestions },
  }).protect();
  const apollo = new ApolloServer<GraphQLContext>({
    // The schema is executed by graphql-jit (see graphql-jit-executor.ts); Apollo does the rest.
    gateway: graphqlJitGateway(makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers })),
    introspection: config.graphql.introspection,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: limits.tokens },
    formatError: maskInternalErrors,
    // Cache control would run a hook per resolved field to compute a cache policy nobody reads:
    // every answer is per caller and sent with POST.
    plugins: [...armor.plugins, refuseUnstorableInput(), logUnexpectedErrors(), statusFromErrors(), ApolloServerPluginCacheControlDisabled()],
    // main.ts owns shutdown (stop listening, drain, then stop Apollo, the pool and Postgres in order);
    // Apollo's own signal handlers would race it and re-raise the signal.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  // An ETag hashes every response body; no client revalidates POST /graphql answers.
  app.set('etag', false);
  if (config.http.trustProxy !== false) app.set('trust proxy', config.http.trustProxy);
  // Security headers everywhere but /graphql, where a strict CSP would break the GraphQL tooling.
  const headers = helmet();
  app.use((req, res, next) => (req.path.startsWith('/graphql') ? next() : headers(req, res, next)));
  app.use(logRequests(logger));
  // First after the request log: the router tries each layer in order, and /graphql is the hot path.
  // A request takes a load-shedding slot only once its body is in: a client sending its body a byte
  // at a time would otherwise hold a slot until the request timeout, and 128 of them would shut
  // everyone else out. The token is checked before the body is read, so only a valid caller within
  // its rate limit gets the server to read (at most HTTP_BODY_LIMIT of) a body.
  app.use(
    '/graphql',
    inSequence(
      refuseTokensOutsideTheHeader,
      requireToken(config.auth),
      requireValidClaims(config.auth),
      limitPerSubject(config.rateLimit),
      express.json({ limit: config.http.bodyLimit }),
      shedLoad({ maxInFlight: config.http.maxInFlight, maxQueue: config.http.maxQueue, maxWaitMs: config.http.queueTimeoutMs, retryAfterSeconds: RETRY_AFTER_SECONDS }),
      refuseUntilReady(readiness),
      graphqlHandler(apollo, async (req) => ({
        viewer: viewerOf(req),
        logger: req.log,
        requestId: req.id,
        services,
        loaders: createLoaders(services),
      })),
    ),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Write-back off is no outage (the API serves), but SQL changes to users pile up unsent: say so.
  const writeBackStatus = async () =>
    services.auth0Users
      ? { status: 'on' }
      : { status: 'off', missingSettings: config.writeBackMissingSettings, pendingSqlChanges: await countPendingSqlChanges(prisma) };
  app.get('/readyz', async (req, res) => {
    if (!readiness.isReady()) {
      res.status(503).json({ status: 'starting', reason: 'database not reached or not migrated yet' });
      return;
    }
    try {
      await prisma.$queryRaw`SELECT 1`;
      res.json({ status: 'ready', writeBack: await writeBackStatus() });
    } catch (error) {
      req.log.warn({ err: error }, 'readiness check failed: the database does not answer');
      res.status(503).json({ status: 'unavailable', reason: 'database' });
    }
  });

  if (devIssuer) app.use(devIssuer.router);
  // Development only (the dev issuer is never served in production): write-back to the simulated tenant.
  if (devIssuer && config.writeBack?.devTenantFile) app.use('/api/v2', devManagementApi(devIssuer, { ...config.writeBack, devTenantFile: config.writeBack.devTenantFile }));

  // Auth0 Log Streams: deletions and sign-ups as they happen (outside /graphql's token check).
  if (config.auth.logStreamToken) {
    app.use(logStreamWebhook({ secret: config.auth.logStreamToken, service: new LogStreamService(prisma, logger), logger }));
  }

  app.use(limitFailedTokensPerIp(config.rateLimit));
  app.use(tokenErrorHandler(config.auth));
  app.use(lastResortErrorHandler);
  return { app, apollo, services };
}

function maskInternalErrors(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (isDatabaseUnavailable(unwrapResolverError(error))) return UNAVAILABLE;
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError || !(original instanceof Error)) return formatted;
  }
  return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

function logUnexpectedErrors(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) continue;
            if (isDatabaseUnavailable(unwrapResolverError(error))) {
              contextValue.logger.warn({ path: error.path }, 'database unavailable; answered UNAVAILABLE');
              continue;
            }
            contextValue.logger.error({ err: unwrapResolverError(error), path: error.path }, 'unexpected error in a GraphQL request');
          }
        },
      };
    },
  };
}

// The media types Apollo chooses between for a single result, in its order of preference.
const RESPONSE_MEDIA_TYPES = ['application/json; charset=utf-8', 'application/graphql-response+json; charset=utf-8', 'application/json; callbackSpec=1.0; charset=utf-8'];
const GRAPHQL_RESPONSE_JSON = RESPONSE_MEDIA_TYPES[1];

// Errors that end a request before execution: the response has no `data`.
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE']);

/** The media type Apollo answers with, negotiated exactly as Apollo 5 does (no Accept: application/json). */
function responseMediaType(accept: string | undefined): string | undefined {
  if (!accept) return RESPONSE_MEDIA_TYPES[0];
  return new Negotiator({ headers: { accept } }).mediaType(RESPONSE_MEDIA_TYPES);
}

// The HTTP status follows the errors and the media type, as the GraphQL-over-HTTP spec says:
// - an outage is a 503 that a client (the Post Login Action first) retries, never a 200;
// - a document that cannot run (parse, validation, variable coercion, unknown operation) is a 200
//   for an `application/json` client, whose errors are in the body, and a 400 for an
//   `application/graphql-response+json` one, whose status alone must tell a response without data.
// The content type is set here, from the same negotiation, so the status and it always agree.
function statusFromErrors(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.body.kind !== 'single') return;
          const { singleResult } = response.body;
          const errors = singleResult.errors ?? [];
          const codes = new Set(errors.map((error) => error.extensions?.code));
          if (codes.has('UNAVAILABLE')) {
            // Auth0's own Retry-After (a 429 from the Management API) when it gave one.
            const asked = errors.map((error) => error.extensions?.retryAfter).filter((value): value is number => typeof value === 'number');
            response.http.headers.set('retry-after', asked.length > 0 ? String(Math.max(...asked)) : RETRY_AFTER_SECONDS);
            // A 503 only when nothing ran: a document where another field answered (a mutation
            // applied) is a 200, so that a client reads the data that says what happened.
            if (!hasFieldResult(singleResult.data)) response.http.status = 503;
            return;
          }
          if (codes.has('WRITE_BACK_NOT_CONFIGURED')) {
            // A configuration gap on this server, not an outage: retrying will not help, so no Retry-After.
            response.http.status = 501;
            return;
          }
          const isRequestError = singleResult.data === undefined && codes.size > 0 && [...codes].every((code) => typeof code === 'string' && REQUEST_ERROR_CODES.has(code));
          if (!isRequestError) return;
          const mediaType = response.http.headers.get('content-type') ?? responseMediaType(request.http?.headers.get('accept'));
          // No acceptable media type: Apollo answers 406 itself.
          if (!mediaType) return;
          response.http.headers.set('content-type', mediaType);
          response.http.status = mediaType === GRAPHQL_RESPONSE_JSON ? 400 : 200;
        },
      };
    },
  };
}

/** Whether any root field of the answer holds a result. */
function hasFieldResult(data: Record<string, unknown> | null | undefined): boolean {
  return data != null && Object.values(data).some((value) => value !== null && value !== undefined);
}

function refuseUntilReady(readiness: Readiness): RequestHandler {
  return (_req, res, next) => {
    if (readiness.isReady()) return next();
    res.status(503).set('retry-after', RETRY_AFTER_SECONDS).json({ errors: [UNAVAILABLE] });
  };
}

// Body-parser failures (bad JSON, too large) keep their status; anything else is a masked 500.
const lastResortErrorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  if (isDatabaseUnavailable(error)) {
    res.status(503).set('retry-after', RETRY_AFTER_SECONDS).json({ errors: [UNAVAILABLE] });
    return;
  }
  const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) req.log.error({ err: error }, 'unhandled error');
  const message = status === 500 ? 'Internal server error' : String(error.message ?? 'Bad request');
  res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
};
