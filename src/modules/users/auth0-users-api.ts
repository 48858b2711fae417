// The Management API's users endpoints for the write-back: short timeout, no retries, a cached token refetched after a 401.
import type { ManagementClient, ManagementError } from 'auth0';

// The SDK takes about a second to load on a small machine: only a server that writes back pays it.
// A require() rather than import(): the same CommonJS build as the rest of the project loads.
type Auth0Sdk = typeof import('auth0');
let sdk: Auth0Sdk | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSdk = (): Auth0Sdk => (sdk ??= require('auth0') as Auth0Sdk);

export interface ManagementApiSettings {
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Stand-ins only: send the SDK's https://domain requests to this origin instead. */
  origin?: string;
  /** Per request. A row lock is held around the call, so this bounds how long it is held. */
  timeoutMs: number;
}

/** A user as the Management API returns it (the fields this project keeps). */
export interface Auth0User {
  user_id: string;
  email?: string | null;
  email_verified?: boolean;
  name?: string | null;
  picture?: string | null;
  blocked?: boolean;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
  updated_at?: string;
}

/** The body of PATCH /api/v2/users/:id; the keys are Auth0's field names. */
export type Auth0UserPatch = Partial<Pick<Auth0User, 'email' | 'email_verified' | 'name' | 'picture' | 'blocked' | 'app_metadata' | 'user_metadata'>>;

/** Auth0 refused the change (a 4xx other than 401 and 429): the caller gets Auth0's own message. */
export class Auth0Refused extends Error {
  override name = 'Auth0Refused';
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Auth0 could not answer: 429, 5xx, a timeout or a network error. `applied` says whether Auth0 may
 * nevertheless have applied the change (a timeout or a 5xx after the request was sent).
 */
export class Auth0Unavailable extends Error {
  override name = 'Auth0Unavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly mayHaveApplied: boolean,
  ) {
    super(message);
  }
}

const DEFAULT_RETRY_AFTER_SECONDS = 5;

export class Auth0UsersApi {
  private client: ManagementClient | undefined;
  private token: { value: string; expiresAt: number } | undefined;
  private pendingToken: Promise<string> | undefined;

  constructor(private readonly settings: ManagementApiSettings) {}

  private managementClient(): ManagementClient {
    const { ManagementClient } = loadSdk();
    this.client ??= new ManagementClient({
      domain: this.settings.domain,
      token: () => this.accessToken(),
      // The SDK's defaults (60 s, three attempts waiting Retry-After up to 60 s) would hold the
      // row lock for minutes; the caller answers UNAVAILABLE with Retry-After instead.
      timeoutInSeconds: this.settings.timeoutMs / 1000,
      maxRetries: 0,
      fetch: (input, init) => fetch(this.url(String(input instanceof Request ? input.url : input)), init),
    });
    return this.client;
  }

  private url(url: string): string {
    const { domain, origin } = this.settings;
    return origin ? url.replace(`https://${domain}`, origin.replace(/\/$/, '')) : url;
  }

  /**
   * A client-credentials token, cached until a minute before it expires. Fetched before any row is
   * locked (see `ready`), with the same short timeout as the calls. The SDK's own provider never
   * refetches after a 401 (a revoked grant, a rotated key): this one drops the token and fetches once more.
   */
  private accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return Promise.resolve(this.token.value);
    this.pendingToken ??= this.fetchToken().finally(() => (this.pendingToken = undefined));
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const { domain, clientId, clientSecret, timeoutMs } = this.settings;
    let response: Response;
    try {
      response = await fetch(this.url(`https://${domain}/oauth/token`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: `https://${domain}/api/v2/` }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new Auth0Unavailable('Auth0 did not answer the token request in time.', DEFAULT_RETRY_AFTER_SECONDS, false);
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      // Never the response body: it could echo a credential.
      throw new Auth0Unavailable(`Auth0 refused the Management API credentials (${response.status}).`, DEFAULT_RETRY_AFTER_SECONDS, false);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 86_400) * 1000;
    this.token = { value: body.access_token, expiresAt: Date.now() + Math.max(0, lifetimeMs - 60_000) };
    return body.access_token;
  }

  /** Makes sure a token is at hand, so that no row lock waits for the token endpoint. */
  async ready(): Promise<void> {
    await this.accessToken();
  }

  async updateUser(auth0Id: string, patch: Auth0UserPatch): Promise<Auth0User> {
    return (await this.call((client) => client.users.update(auth0Id, patch))) as Auth0User;
  }

  async getUser(auth0Id: string): Promise<Auth0User | null> {
    try {
      return (await this.call((client) => client.users.get(auth0Id))) as Auth0User;
    } catch (error) {
      if (error instanceof Auth0Refused && error.status === 404) return null;
      throw error;
    }
  }

  /** Auth0 answers 204 for a user it does not know, so a retried deletion succeeds. */
  async deleteUser(auth0Id: string): Promise<void> {
    await this.call((client) => client.users.delete(auth0Id));
  }

  private async call<T>(request: (client: ManagementClient) => PromiseLike<T>): Promise<T> {
    const client = this.managementClient();
    const { ManagementError } = loadSdk();
    try {
      return await request(client);
    } catch (error) {
      if (error instanceof ManagementError && error.statusCode === 401) {
        this.token = undefined;
        try {
          return await request(client);
        } catch (retried) {
          throw classify(retried, ManagementError);
        }
      }
      throw classify(error, ManagementError);
    }
  }
}

function classify(error: unknown, ManagementErrorClass: Auth0Sdk['ManagementError']): Error {
  if (error instanceof Auth0Unavailable || error instanceof Auth0Refused) return error;
  if (!(error instanceof ManagementErrorClass)) return new Auth0Unavailable('Auth0 could not be reached.', DEFAULT_RETRY_AFTER_SECONDS, true);
  const status = error.statusCode;
  if (status === undefined) {
    // No status: a timeout or a network error. The request may have reached Auth0.
    return new Auth0Unavailable('Auth0 did not answer in time.', DEFAULT_RETRY_AFTER_SECONDS, true);
  }
  if (status === 429) return new Auth0Unavailable('Auth0 is rate limiting this tenant.', retryAfterSeconds(error), false);
  if (status >= 500 || status === 408) return new Auth0Unavailable(`Auth0 answered ${status}.`, retryAfterSeconds(error), true);
  const body = (error.body ?? {}) as { message?: unknown; errorCode?: unknown };
  const message = typeof body.message === 'string' ? body.message : `Auth0 refused the change (${status}).`;
  return new Auth0Refused(status, message, typeof body.errorCode === 'string' ? body.errorCode : undefined);
}

function retryAfterSeconds(error: ManagementError): number {
  const headers = error.rawResponse?.headers;
  const retryAfter = Number(headers?.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.ceil(retryAfter);
  const reset = Number(headers?.get('x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(1, Math.ceil(reset - Date.now() / 1000));
  return DEFAULT_RETRY_AFTER_SECONDS;
}
