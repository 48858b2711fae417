// The whole environment, read once and validated into one typed object.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';

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
  EMBEDDED_POSTGRES_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data/postgres')),
  EMBEDDED_POSTGRES_PORT: port(54329),
  AUTH0_DOMAIN: z.preprocess(emptyAsUndefined, z.string().regex(/^[a-z0-9.-]+$/i, 'a host name such as your-tenant.eu.auth0.com, without https://').optional()),
  AUTH0_ISSUER_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  AUTH0_AUDIENCE: optionalString,
  AUTH0_CREATE_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('create:users')),
  AUTH0_READ_USERS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('read:users')),
  AUTH0_READ_TRANSACTIONS_SCOPE: z.preprocess(emptyAsUndefined, z.string().default('read:transactions')),
  CURSOR_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'at least 32 characters').optional()),
  AUTH0_CLAIMS_NAMESPACE: z.preprocess(emptyAsUndefined, z.url().default('https://auth0-postgres-sync.example/')),
  DEV_ISSUER_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data/dev-issuer')),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  LOG_PRETTY: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', 'auto']).default('auto')),
  GRAPHQL_INTROSPECTION: bool(false),
});

export const DEV_AUDIENCE = 'https://auth0-postgres-sync.local/api';

export interface Config {
  env: 'development' | 'test' | 'production';
  http: { host: string | undefined; port: number };
  database: {
    /** A Postgres given by the operator; when absent the embedded one is started. */
    url: string | undefined;
    poolSize: number;
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
    claimsNamespace: string;
    devIssuerDir: string;
  };
  graphql: { introspection: boolean };
  /** Signs pagination cursors. Random per process unless CURSOR_SECRET is set (set it when several instances serve one API). */
  cursorSecret: Buffer;
  log: { level: string; pretty: boolean };
}

/** Reads the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];

  const issuerBase = e.AUTH0_ISSUER_BASE_URL ?? (e.AUTH0_DOMAIN ? `https://${e.AUTH0_DOMAIN}/` : undefined);
  const mode = issuerBase ? 'auth0' : 'dev';
  if (mode === 'dev' && e.NODE_ENV === 'production') {
    problems.push('AUTH0_DOMAIN: required in production (the local development issuer is never served there)');
  }
  if (mode === 'auth0' && !e.AUTH0_AUDIENCE) {
    problems.push('AUTH0_AUDIENCE: required with AUTH0_DOMAIN (the identifier of your Auth0 API)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const issuer = withTrailingSlash(issuerBase ?? `http://localhost:${e.PORT}/`);
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
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
      claimsNamespace: withTrailingSlash(e.AUTH0_CLAIMS_NAMESPACE),
      devIssuerDir: path.resolve(cwd, e.DEV_ISSUER_DIR),
    },
    graphql: { introspection: e.NODE_ENV !== 'production' || e.GRAPHQL_INTROSPECTION },
    cursorSecret: e.CURSOR_SECRET ? Buffer.from(e.CURSOR_SECRET) : randomBytes(32),
    log: {
      level: e.LOG_LEVEL,
      pretty: e.LOG_PRETTY === 'auto' ? Boolean(process.stdout.isTTY) && e.NODE_ENV !== 'production' : e.LOG_PRETTY === 'true',
    },
  };
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
