// The whole environment, read once and validated into one typed object.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { describeBadSetting } from './config-problems';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const port = (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));
const positiveInt = (fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(fallback));
const bool = (fallback: boolean) =>
  z.preprocess(emptyAsUndefined, z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false')).transform((v) => v === 'true' || v === '1');

const EnvSchema = z.object({
  NODE_ENV: z.preprocess(emptyAsUndefined, z.enum(['development', 'test', 'production']).default('development')),
  HOST: optionalString,
  PORT: port(4000),
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: positiveInt(10),
  DATABASE_PREPARED_STATEMENTS: bool(true),
  EMBEDDED_POSTGRES_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data/postgres')),
  EMBEDDED_POSTGRES_PORT: port(54329),
  AUTH0_DOMAIN: z.preprocess(emptyAsUndefined, z.string().regex(/^[a-z0-9.-]+$/i, 'a host name such as your-tenant.eu.auth0.com, without https://').optional()),
  AUTH0_ISSUER_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  AUTH0_AUDIENCE: optionalString,
  AUTH0_CREATE_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('create:users')),
  AUTH0_READ_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('read:users')),
  AUTH0_READ_TRANSACTIONS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('read:transactions')),
  AUTH0_MIGRATE_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('migrate:users')),
  LEGACY_ATTEMPT_WINDOW_MS: positiveInt(15 * 60 * 1000),
  LEGACY_MAX_FAILURES_PER_EMAIL: positiveInt(10),
  LEGACY_MAX_FAILURES_PER_ADDRESS: positiveInt(50),
  LEGACY_MAX_FAILURES_PER_CLIENT: positiveInt(2000),
  AUTH0_UPDATE_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('update:users')),
  AUTH0_DELETE_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('delete:users')),
  AUTH0_MGMT_CLIENT_ID: optionalString,
  AUTH0_MGMT_CLIENT_SECRET: optionalString,
  AUTH0_MANAGEMENT_ORIGIN: z.preprocess(emptyAsUndefined, z.url().optional()),
  AUTH0_WRITE_TIMEOUT_MS: positiveInt(3000),
  WRITE_BACK_MAX_IN_FLIGHT: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().optional()),
  USERS_PUSH_INTERVAL_MS: positiveInt(2000),
  USERS_CONVERGE_AFTER_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(60_000)),
  // Auth0 fails an export job after hours (up to 8 h in its docs), not minutes: wait longer than that.
  BACKFILL_MAX_WAIT_MINUTES: z.preprocess(emptyAsUndefined, z.coerce.number().positive().default(600)),
  CURSOR_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'at least 32 characters').optional()),
  AUTH0_CLAIMS_NAMESPACE: z.preprocess(emptyAsUndefined, z.url().default('https://auth0-postgres-sync.example/')),
  DEV_ISSUER_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data/dev-issuer')),
  SIMULATED_TENANT_FILE: z.preprocess(emptyAsUndefined, z.string().default('.data/simulated-tenant.json')),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  LOG_PRETTY: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', 'auto']).default('auto')),
  GRAPHQL_INTROSPECTION: bool(false),
  GRAPHQL_MAX_DEPTH: positiveInt(10),
  GRAPHQL_MAX_ALIASES: positiveInt(15),
  GRAPHQL_MAX_TOKENS: positiveInt(1000),
  GRAPHQL_MAX_DIRECTIVES: positiveInt(20),
  GRAPHQL_MAX_COST: positiveInt(5000),
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.string().default('false')),
  HTTP_BODY_LIMIT: z.preprocess(emptyAsUndefined, z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb').default('100kb')),
  HTTP_MAX_IN_FLIGHT: positiveInt(128),
  HTTP_MAX_QUEUE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(1000)),
  HTTP_QUEUE_TIMEOUT_MS: positiveInt(3000),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(5000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(10000),
  RATE_LIMIT_WINDOW_MS: positiveInt(60_000),
  RATE_LIMIT_PER_IP: positiveInt(600),
  RATE_LIMIT_PER_USER: positiveInt(300),
  RATE_LIMIT_PER_MACHINE: positiveInt(60_000),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(5000),
  DATABASE_POOL_TIMEOUT_MS: positiveInt(3000),
  DATABASE_RETRY_MAX_MS: positiveInt(30_000),
  AUTH0_LOG_STREAM_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(24, 'at least 24 characters').optional()),
  JWKS_CACHE_MAX_AGE_MS: positiveInt(60 * 60 * 1000),
  JWKS_COOLDOWN_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(30_000)),
  AUTH0_CLOCK_TOLERANCE_S: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(600).default(60)),
  // Auth0's longest access-token lifetime is 30 days (2592000 s).
  AUTH0_MAX_TOKEN_AGE_S: z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().max(2_592_000).default(86_400)),
  VERIFIED_TOKEN_CACHE_ENTRIES: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(10_000)),
});
/** Every setting the server and the commands read from the environment. */
export const SETTING_NAMES: readonly string[] = Object.keys(EnvSchema.shape);


export const DEV_AUDIENCE = 'https://auth0-postgres-sync.local/api';

export interface Config {
  env: 'development' | 'test' | 'production';
  database: {
    /** A Postgres given by the operator; when absent the embedded one is started. */
    url: string | undefined;
    poolSize: number;
    /** Named prepared statements on the hot paths (off behind poolers that cannot carry them). */
    preparedStatements: boolean;
    /** Every statement is cancelled after this long (Postgres statement_timeout). */
    statementTimeoutMs: number;
    /** How long a request waits for a pool connection before failing with UNAVAILABLE. */
    poolTimeoutMs: number;
    /** The longest pause between attempts to reach the database at start-up. */
    retryMaxMs: number;
    embedded: { dir: string; port: number };
  };
  auth: {
    /** `auth0`: tokens from a real (or stand-in) Auth0 tenant; `dev`: this server's own issuer. */
    mode: 'auth0' | 'dev';
    /** The token `iss`, with its trailing slash, as Auth0 writes it. */
    issuer: string;
    jwksUri: string;
    audience: string;
    createUsersScope: string;
    readUsersScope: string;
    readTransactionsScope: string;
    /** The scope of the custom database scripts' machine token (legacy password checks and look-ups). */
    migrateUsersScope: string;
    updateUsersScope: string;
    deleteUsersScope: string;
    claimsNamespace: string;
    devIssuerDir: string;
    /** The simulated tenant's users (`login:simulate`), which the dev server's Management API changes. */
    simulatedTenantFile: string;
    /** Known signing keys keep verifying from the cache this long, even while the JWKS is unreachable. */
    jwksCacheMaxAgeMs: number;
    /** The least time between two JWKS fetches for an unknown key id (key rotation). */
    jwksCooldownMs: number;
    /** Tokens whose signature verified, remembered until they expire (0: verify every request). */
    verifiedTokenCacheEntries: number;
    /** The shared secret of the Auth0 Log Stream webhook; unset, the webhook is not served. */
    logStreamToken: string | undefined;
    /** How far our clock and the issuer's may disagree: for `exp`, and for an `iat` in the future. */
    clockToleranceS: number;
    /** A token issued longer ago than this is refused whatever its `exp` (Auth0's default lifetime: 24 h). */
    maxTokenAgeS: number;
  };
  graphql: {
    introspection: boolean;
    /** Field suggestions ("did you mean ...") leak the schema; off in production. */
    fieldSuggestions: boolean;
    limits: { depth: number; aliases: number; tokens: number; directives: number; cost: number };
  };
  http: {
    host: string | undefined;
    port: number;
    bodyLimit: string;
    /** Express's `trust proxy`: set it behind ngrok or a load balancer so rate limits see the client's address. */
    trustProxy: boolean | number | string;
    /** Load shedding on /graphql: requests served at once, requests that may wait, and for how long. */
    maxInFlight: number;
    maxQueue: number;
    queueTimeoutMs: number;
    /**
     * How long a client may take, from connecting, to send its headers, and its whole request (body
     * included), before it gets 408 and the connection closes. The headers get the Post Login
     * Action's own budget (5 s): past it no answer reaches the Action in time, so nothing useful is
     * cut, even when a busy server is slow to read what arrived. The whole request gets twice that,
     * for other clients sending a larger body over a slow link. Node's defaults were 60 s and 300 s.
     */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
  };
  rateLimit: { windowMs: number; perIp: number; perUser: number; perMachine: number };
  /** Failed legacy password attempts allowed per window: per email, per end-user address, per machine client. */
  legacyAttempts: { windowMs: number; perEmail: number; perAddress: number; perClient: number };
  /** Writing users back to Auth0 through the Management API; unset without AUTH0_MGMT_CLIENT_ID/SECRET. */
  writeBack:
    | {
        management: { domain: string; clientId: string; clientSecret: string; origin?: string; timeoutMs: number };
        /**
         * Development without a tenant: this server plays the Management API's users endpoints over
         * the simulated tenant in this file, and its dev issuer's client is the write-back's (filled in by createApp).
         */
        devTenantFile?: string;
        /** How often the worker sends changes made with SQL. */
        pushIntervalMs: number;
        /** A write-back whose transaction has not ended after this long is converged to Auth0's state. */
        convergeAfterMs: number;
        /** Write-backs under way at once (each holds a database connection during its Auth0 call); more wait, then get UNAVAILABLE. */
        maxInFlight: number;
      }
    | undefined;
  /** users:backfill: how long after its creation the export job is waited on (it keeps running in Auth0 after that). */
  backfill: { maxWaitMs: number };
  /** The Management API settings that are not set, when `writeBack` is undefined (said at start-up and in every refusal). */
  writeBackMissingSettings: string[];
  /** Signs pagination cursors. Random per process unless CURSOR_SECRET is set (set it when several instances serve one API). */
  cursorSecret: Buffer;
  log: { level: string; pretty: boolean };
}

/** Reads the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = EnvSchema.safeParse(env);
  // One pass: the checks between settings run on the raw values too, so that a bad value and a
  // missing companion setting are reported together, not one start-up after the other.
  const problems = [
    ...(parsed.success ? [] : settingProblems(parsed.error.issues, env)),
    ...crossSettingProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;

  const issuerBase = e.AUTH0_ISSUER_BASE_URL ?? (e.AUTH0_DOMAIN ? `https://${e.AUTH0_DOMAIN}/` : undefined);
  const mode = issuerBase ? 'auth0' : 'dev';
  const writeBackDomain = e.AUTH0_DOMAIN;
  const issuer = withTrailingSlash(issuerBase ?? `http://localhost:${e.PORT}/`);
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimit: e.HTTP_BODY_LIMIT,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      maxInFlight: e.HTTP_MAX_IN_FLIGHT,
      maxQueue: e.HTTP_MAX_QUEUE,
      queueTimeoutMs: e.HTTP_QUEUE_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    },
    rateLimit: { windowMs: e.RATE_LIMIT_WINDOW_MS, perIp: e.RATE_LIMIT_PER_IP, perUser: e.RATE_LIMIT_PER_USER, perMachine: e.RATE_LIMIT_PER_MACHINE },
    legacyAttempts: { windowMs: e.LEGACY_ATTEMPT_WINDOW_MS, perEmail: e.LEGACY_MAX_FAILURES_PER_EMAIL, perAddress: e.LEGACY_MAX_FAILURES_PER_ADDRESS, perClient: e.LEGACY_MAX_FAILURES_PER_CLIENT },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      poolTimeoutMs: e.DATABASE_POOL_TIMEOUT_MS,
      retryMaxMs: e.DATABASE_RETRY_MAX_MS,
      embedded: { dir: path.resolve(cwd, e.EMBEDDED_POSTGRES_DIR), port: e.EMBEDDED_POSTGRES_PORT },
    },
    auth: {
      mode,
      issuer,
      jwksUri: new URL('.well-known/jwks.json', issuer).toString(),
      audience: e.AUTH0_AUDIENCE ?? DEV_AUDIENCE,
      createUsersScope: e.AUTH0_CREATE_USERS_SCOPE,
      readUsersScope: e.AUTH0_READ_USERS_SCOPE,
      readTransactionsScope: e.AUTH0_READ_TRANSACTIONS_SCOPE,
      migrateUsersScope: e.AUTH0_MIGRATE_USERS_SCOPE,
      updateUsersScope: e.AUTH0_UPDATE_USERS_SCOPE,
      deleteUsersScope: e.AUTH0_DELETE_USERS_SCOPE,
      claimsNamespace: withTrailingSlash(e.AUTH0_CLAIMS_NAMESPACE),
      devIssuerDir: path.resolve(cwd, e.DEV_ISSUER_DIR),
      simulatedTenantFile: path.resolve(cwd, e.SIMULATED_TENANT_FILE),
      jwksCacheMaxAgeMs: e.JWKS_CACHE_MAX_AGE_MS,
      jwksCooldownMs: e.JWKS_COOLDOWN_MS,
      verifiedTokenCacheEntries: e.VERIFIED_TOKEN_CACHE_ENTRIES,
      logStreamToken: e.AUTH0_LOG_STREAM_TOKEN,
      clockToleranceS: e.AUTH0_CLOCK_TOLERANCE_S,
      maxTokenAgeS: e.AUTH0_MAX_TOKEN_AGE_S,
    },
    graphql: {
      introspection: e.NODE_ENV !== 'production' || e.GRAPHQL_INTROSPECTION,
      fieldSuggestions: e.NODE_ENV !== 'production',
      limits: { depth: e.GRAPHQL_MAX_DEPTH, aliases: e.GRAPHQL_MAX_ALIASES, tokens: e.GRAPHQL_MAX_TOKENS, directives: e.GRAPHQL_MAX_DIRECTIVES, cost: e.GRAPHQL_MAX_COST },
    },
    writeBack:
      e.AUTH0_MGMT_CLIENT_ID && e.AUTH0_MGMT_CLIENT_SECRET && writeBackDomain
        ? {
            management: { domain: writeBackDomain, clientId: e.AUTH0_MGMT_CLIENT_ID, clientSecret: e.AUTH0_MGMT_CLIENT_SECRET, origin: e.AUTH0_MANAGEMENT_ORIGIN, timeoutMs: e.AUTH0_WRITE_TIMEOUT_MS },
            pushIntervalMs: e.USERS_PUSH_INTERVAL_MS,
            convergeAfterMs: e.USERS_CONVERGE_AFTER_MS,
            // Half the pool: write-backs slowed down by Auth0 never take the connections first logins need.
            maxInFlight: e.WRITE_BACK_MAX_IN_FLIGHT ?? Math.max(1, Math.floor(e.DATABASE_POOL_SIZE / 2)),
          }
        : mode === 'dev' && !e.AUTH0_MGMT_CLIENT_ID
          ? {
              // The dev issuer is served (never in production): so is a local Management API, at this same server.
              management: { domain: `localhost:${e.PORT}`, clientId: '', clientSecret: '', origin: `http://127.0.0.1:${e.PORT}`, timeoutMs: e.AUTH0_WRITE_TIMEOUT_MS },
              devTenantFile: path.resolve(cwd, e.SIMULATED_TENANT_FILE),
              pushIntervalMs: e.USERS_PUSH_INTERVAL_MS,
              convergeAfterMs: e.USERS_CONVERGE_AFTER_MS,
              maxInFlight: e.WRITE_BACK_MAX_IN_FLIGHT ?? Math.max(1, Math.floor(e.DATABASE_POOL_SIZE / 2)),
            }
          : undefined,
    backfill: { maxWaitMs: Math.round(e.BACKFILL_MAX_WAIT_MINUTES * 60_000) },
    writeBackMissingSettings: mode === 'dev' ? [] : MANAGEMENT_SETTINGS.filter((name) => env[name] === undefined || env[name] === ''),
    cursorSecret: e.CURSOR_SECRET ? Buffer.from(e.CURSOR_SECRET) : randomBytes(32),
    log: {
      level: e.LOG_LEVEL,
      pretty: e.LOG_PRETTY === 'auto' ? Boolean(process.stdout.isTTY) && e.NODE_ENV !== 'production' : e.LOG_PRETTY === 'true',
    },
  };
}

/** One line per bad setting (zod may find several faults in one value), with what was given and what is expected. */
function settingProblems(issues: z.core.$ZodIssue[], env: NodeJS.ProcessEnv): string[] {
  const first = new Map<string, z.core.$ZodIssue>();
  for (const issue of issues) {
    const name = String(issue.path[0]);
    if (!first.has(name)) first.set(name, issue);
  }
  const shape = EnvSchema.shape as Record<string, z.ZodType>;
  return [...first].map(([name, issue]) => describeBadSetting(name, env[name], shape[name], issue));
}

/** Everything the write-back needs to reach the Management API. */
const MANAGEMENT_SETTINGS = ['AUTH0_DOMAIN', 'AUTH0_MGMT_CLIENT_ID', 'AUTH0_MGMT_CLIENT_SECRET'];

/** Settings that are only wrong together; read raw, so they are checked even when a value is invalid. */
function crossSettingProblems(env: NodeJS.ProcessEnv): string[] {
  const given = (name: string) => env[name] !== undefined && env[name] !== '';
  const problems: string[] = [];
  const realIssuer = given('AUTH0_ISSUER_BASE_URL') || given('AUTH0_DOMAIN');
  if (!realIssuer && env.NODE_ENV === 'production') {
    problems.push('AUTH0_DOMAIN: required in production (the local development issuer is never served there)');
  }
  if (realIssuer && !given('AUTH0_AUDIENCE')) {
    problems.push('AUTH0_AUDIENCE: required with AUTH0_DOMAIN (the identifier of your Auth0 API)');
  }
  if ((given('AUTH0_MGMT_CLIENT_ID') || given('AUTH0_MGMT_CLIENT_SECRET')) && !MANAGEMENT_SETTINGS.every(given)) {
    problems.push('AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET: set both, with AUTH0_DOMAIN, to write users back to Auth0');
  }
  // The write-back holds a row lock around the Management API call: the call must end first.
  const writeTimeout = Number(env.AUTH0_WRITE_TIMEOUT_MS || 3000);
  const statementTimeout = Number(env.DATABASE_STATEMENT_TIMEOUT_MS || 5000);
  if (given('AUTH0_MGMT_CLIENT_ID') && writeTimeout >= statementTimeout) {
    problems.push(
      `AUTH0_WRITE_TIMEOUT_MS: must be less than DATABASE_STATEMENT_TIMEOUT_MS (given ${writeTimeout} and ${statementTimeout}; a row lock is held around the call)`,
    );
  }
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (Number(env.HTTP_HEADERS_TIMEOUT_MS || 5000) > Number(env.HTTP_REQUEST_TIMEOUT_MS || 10000)) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  return problems;
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
