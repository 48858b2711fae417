// Runs a Post Login Action file as Auth0 does: a CommonJS module in a sandbox, with Auth0's event and api objects.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import vm from 'node:vm';
import type { ActionContainer } from './action-container';
import type { SimulatedTenant, TenantUser } from './simulated-tenant';

// Auth0 ends a trigger that runs longer than this.
export const TRIGGER_LIMIT_MS = 20_000;

/** The Node globals Auth0's runtime gives its code (beyond `console`, `fetch` and `require`), shared by both sandboxes. */
export const NODE_GLOBALS = {
  AbortSignal,
  AbortController,
  URL,
  URLSearchParams,
  TextEncoder,
  TextDecoder,
  Buffer,
  setTimeout,
  clearTimeout,
  structuredClone,
};

export interface HttpCall {
  method: string;
  url: string;
  status: number | 'failed';
  durationMs: number;
}

export interface LoginOptions {
  tenant: SimulatedTenant;
  actionFile: string;
  secrets: Record<string, string>;
  user: Omit<TenantUser, 'logins_count' | 'created_at' | 'app_metadata' | 'user_metadata'>;
  /** `oauth2-refresh-token` for a refresh-token exchange. */
  protocol?: string;
  audience?: string;
  /** A warm container to run in (the bench's storms); by default the Action is loaded afresh. */
  container?: ActionContainer;
}

export interface LoginResult {
  event: PostLoginEvent;
  denied?: string;
  /** The Action ran past Auth0's 20 s limit (Auth0 would fail the login). */
  timedOut: boolean;
  threw?: unknown;
  appMetadataSet: Record<string, unknown>;
  userMetadataSet: Record<string, unknown>;
  accessTokenClaims: Record<string, unknown>;
  logs: string[];
  httpCalls: HttpCall[];
  durationMs: number;
}

export type PostLoginEvent = ReturnType<typeof buildEvent>;

/** One login of `user` through the Action, with Auth0's semantics for metadata and the cache. */
export async function runPostLogin(options: LoginOptions): Promise<LoginResult> {
  const user = options.protocol === 'oauth2-refresh-token' ? requireExisting(options) : options.tenant.signIn(options.user);
  const event = buildEvent(user, options);
  const logs: string[] = [];
  const httpCalls: HttpCall[] = [];
  const appMetadataSet: Record<string, unknown> = {};
  const userMetadataSet: Record<string, unknown> = {};
  const accessTokenClaims: Record<string, unknown> = {};
  let denied: string | undefined;

  const api = {
    access: {
      deny: (reason: string) => {
        denied = reason;
        return api;
      },
    },
    accessToken: {
      setCustomClaim: (name: string, value: unknown) => {
        accessTokenClaims[name] = value;
        return api;
      },
    },
    idToken: { setCustomClaim: () => api },
    cache: options.tenant.cache,
    user: {
      // Auth0 applies metadata changes when the flow completes, not within this execution.
      setAppMetadata: (name: string, value: unknown) => {
        appMetadataSet[name] = value;
        return api;
      },
      setUserMetadata: (name: string, value: unknown) => {
        userMetadataSet[name] = value;
        return api;
      },
    },
  };

  const onExecutePostLogin = options.container
    ? options.container.bind(logs, recordingFetch(httpCalls))
    : loadAction(options.actionFile, logs, recordingFetch(httpCalls));
  const started = Date.now();
  let timedOut = false;
  let threw: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      onExecutePostLogin(structuredClone(event), api),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, TRIGGER_LIMIT_MS);
      }),
    ]);
  } catch (error) {
    threw = error;
  } finally {
    clearTimeout(timer);
  }
  const durationMs = Date.now() - started;

  if (!timedOut && threw === undefined && denied === undefined) {
    Object.assign(user.app_metadata, appMetadataSet);
    Object.assign(user.user_metadata, userMetadataSet);
  }
  options.tenant.save();
  return { event, denied, timedOut, threw, appMetadataSet, userMetadataSet, accessTokenClaims, logs, httpCalls, durationMs };
}

function requireExisting(options: LoginOptions): TenantUser {
  const user = options.tenant.users.get(options.user.user_id);
  if (!user) throw new Error(`${options.user.user_id} has never logged in: a refresh token cannot exist`);
  return user;
}

export type OnExecutePostLogin = (event: unknown, api: unknown) => Promise<void>;

/** A CommonJS module in a fresh context: Node's globals and built-in modules, no npm packages. */
export function loadAction(file: string, logs: { push(line: string): unknown }, fetchImpl: typeof fetch): OnExecutePostLogin {
  const code = fs.readFileSync(file, 'utf8');
  const module = { exports: {} as Record<string, unknown> };
  const hostRequire = createRequire(file);
  const log = (...args: unknown[]) => void logs.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
  const sandbox = {
    module,
    exports: module.exports,
    require: (name: string) => {
      if (!isBuiltin(name)) throw new Error(`Cannot find module '${name}': this Action declares no npm dependencies`);
      return hostRequire(name);
    },
    console: { log, info: log, warn: log, error: log },
    fetch: fetchImpl,
    ...NODE_GLOBALS,
  };
  vm.runInNewContext(`(function (exports, require, module) {\n${code}\n})(exports, require, module);`, sandbox, { filename: file });
  const handler = module.exports.onExecutePostLogin;
  if (typeof handler !== 'function') throw new Error(`${file} does not export onExecutePostLogin`);
  return handler as OnExecutePostLogin;
}

/** The sandbox's fetch: the real one (or `fetchImpl`), recording each call's URL, status and time for the simulations' output. */
export function recordingFetch(calls: HttpCall[], fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const started = Date.now();
    const url = String(input instanceof Request ? input.url : input);
    const method = init?.method ?? 'GET';
    try {
      const response = await fetchImpl(input, init);
      calls.push({ method, url, status: response.status, durationMs: Date.now() - started });
      return response;
    } catch (error) {
      calls.push({ method, url, status: 'failed', durationMs: Date.now() - started });
      throw error;
    }
  };
}

// The post-login event object as Auth0 documents it (the parts an Action reads).
function buildEvent(user: TenantUser, options: LoginOptions) {
  // Database connections (Auth0's own and custom ones) give `auth0|` ids and the `auth0` strategy.
  const connectionStrategy = options.user.connection === 'Username-Password-Authentication' || options.user.user_id.startsWith('auth0|') ? 'auth0' : options.user.connection;
  const provider = user.user_id.slice(0, user.user_id.indexOf('|'));
  return {
    authentication: { methods: [{ name: connectionStrategy === 'auth0' ? 'pwd' : 'federated', timestamp: new Date().toISOString() }] },
    authorization: { roles: [] as string[] },
    client: { client_id: 'simulated-spa-client', name: 'My App', metadata: {} },
    connection: { id: `con_${connectionStrategy}`, name: user.connection, strategy: connectionStrategy, metadata: {} },
    request: { ip: '127.0.0.1', method: 'POST', hostname: 'localhost', user_agent: 'login-simulator', language: 'en', query: {}, body: {}, geoip: {} },
    resource_server: { identifier: options.audience ?? options.secrets.API_AUDIENCE ?? '' },
    secrets: { ...options.secrets },
    stats: { logins_count: user.logins_count },
    tenant: { id: 'simulated-tenant' },
    transaction: {
      id: randomUUID(),
      protocol: options.protocol ?? 'oidc-basic-profile',
      requested_scopes: ['openid', 'profile', 'email'],
      locale: 'en',
    },
    user: {
      user_id: user.user_id,
      email: user.email,
      email_verified: user.email_verified ?? false,
      name: user.name,
      nickname: user.name ?? user.email?.split('@')[0],
      picture: user.picture,
      created_at: user.created_at,
      updated_at: new Date().toISOString(),
      identities: [{ provider, user_id: user.user_id.slice(provider.length + 1), connection: user.connection, isSocial: connectionStrategy !== 'auth0' }],
      app_metadata: structuredClone(user.app_metadata),
      user_metadata: structuredClone(user.user_metadata),
    },
  };
}
