// The state an Auth0 tenant keeps between logins: users (login counts, app_metadata) and an Action's cache.
import fs from 'node:fs';
import path from 'node:path';

export interface TenantUser {
  user_id: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
  connection: string;
  logins_count: number;
  created_at: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  /** Users of database connections: the password Auth0 stores (scrypt here, bcrypt in Auth0). */
  password_hash?: string;
}

interface CacheEntry {
  value: string;
  expires_at: number;
}

/** What Auth0 documents for api.cache.set and api.cache.delete. */
export type CacheWriteResult = { type: 'success' } | { type: 'error'; code: string };

// Auth0's documented Actions cache limits.
const CACHE_DEFAULT_TTL_MS = 15 * 60 * 1000;
const CACHE_MAX_TTL_MS = 24 * 60 * 60 * 1000;
const CACHE_MAX_ENTRIES = 20;
const CACHE_MAX_KEY_BYTES = 64;
const CACHE_MAX_VALUE_BYTES = 4 * 1024;
const CACHE_MAX_TOTAL_BYTES = 8 * 1024;

/** api.cache as Auth0 documents it: string values, ttl in milliseconds, get returns { value, expires_at }. */
export class ActionCache {
  private refusal: string | undefined;

  constructor(
    private readonly entries = new Map<string, CacheEntry>(),
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): { value: string; expires_at: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires_at <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: entry.value, expires_at: entry.expires_at };
  }

  /** Auth0's cache is best effort: from now on every write fails with `code` (undefined: writes work again). */
  refuseWrites(code: string | undefined): void {
    this.refusal = code;
  }

  set(key: string, value: unknown, options: { ttl?: number; expires_at?: number } = {}): CacheWriteResult {
    if (this.refusal !== undefined) return { type: 'error', code: this.refusal };
    if (typeof value !== 'string') return { type: 'error', code: 'INVALID_VALUE' };
    if (Buffer.byteLength(key) > CACHE_MAX_KEY_BYTES) return { type: 'error', code: 'KEY_TOO_LARGE' };
    if (Buffer.byteLength(value) > CACHE_MAX_VALUE_BYTES) return { type: 'error', code: 'VALUE_TOO_LARGE' };
    const now = this.now();
    const requested = options.expires_at ?? now + (options.ttl ?? CACHE_DEFAULT_TTL_MS);
    const expires_at = Math.min(requested, now + CACHE_MAX_TTL_MS);
    const others = [...this.entries].filter(([other]) => other !== key);
    if (others.length >= CACHE_MAX_ENTRIES) return { type: 'error', code: 'TOO_MANY_ENTRIES' };
    const total = others.reduce((sum, [k, entry]) => sum + Buffer.byteLength(k) + Buffer.byteLength(entry.value), Buffer.byteLength(key) + Buffer.byteLength(value));
    if (total > CACHE_MAX_TOTAL_BYTES) return { type: 'error', code: 'CACHE_FULL' };
    this.entries.set(key, { value, expires_at });
    return { type: 'success' };
  }

  delete(key: string): CacheWriteResult {
    this.entries.delete(key);
    return { type: 'success' };
  }

  toJSON(): Record<string, CacheEntry> {
    return Object.fromEntries(this.entries);
  }
}

/** Where a tenant's state outlives a process: a JSON file, and the issuer whose tenant it is. */
export interface TenantStateFile {
  path: string;
  /** The tenant's issuer URL. One file may hold several tenants; each issuer sees only its own. */
  issuer: string;
}

interface SavedTenant {
  users?: TenantUser[];
  cache?: Record<string, CacheEntry>;
}

/**
 * Users and one Action's cache, of one tenant. In Auth0 the cache belongs to a tenant, so a token cached
 * under one issuer is never handed to the Action of another: a server restarted on another port is another
 * issuer, and the simulated tenant behind it starts with its own (empty) users and cache.
 * Auth0: Actions are "tenant-specific" functions (https://auth0.com/docs/customize/actions), and api.cache
 * values "are scoped to the Trigger in which they are set" (https://auth0.com/docs/customize/actions/
 * explore-triggers/signup-and-login-triggers/post-user-registration-trigger/api-object), a trigger of one tenant.
 */
export class SimulatedTenant {
  readonly users = new Map<string, TenantUser>();
  readonly cache: ActionCache;
  private readonly others: Record<string, SavedTenant>;

  constructor(
    private readonly file?: TenantStateFile,
    now: () => number = Date.now,
  ) {
    const tenants = file && fs.existsSync(file.path) ? readTenants(file.path) : {};
    const { [file?.issuer ?? '']: saved = {}, ...others } = tenants;
    this.others = others;
    for (const user of saved.users ?? []) this.users.set(user.user_id, user);
    this.cache = new ActionCache(new Map(Object.entries(saved.cache ?? {})), now);
  }

  /** The user signing in, created on their first sign-up as Auth0 would. */
  signIn(profile: Omit<TenantUser, 'logins_count' | 'created_at' | 'app_metadata' | 'user_metadata'>): TenantUser {
    const existing = this.users.get(profile.user_id);
    const user: TenantUser = existing ?? { ...profile, logins_count: 0, created_at: new Date().toISOString(), app_metadata: {}, user_metadata: {} };
    // Auth0 counts the login before the Actions run, and counts it even if an Action fails.
    user.logins_count += 1;
    this.users.set(user.user_id, user);
    return user;
  }

  /** A database connection's user by address, as Auth0's store lookup finds them before any script runs. */
  findByEmail(connection: string, email: string): TenantUser | undefined {
    const wanted = email.toLowerCase();
    return [...this.users.values()].find((user) => user.connection === connection && user.email?.toLowerCase() === wanted);
  }

  save(): void {
    if (!this.file) return;
    const tenants = { ...this.others, [this.file.issuer]: { users: [...this.users.values()], cache: this.cache.toJSON() } };
    fs.mkdirSync(path.dirname(this.file.path), { recursive: true });
    fs.writeFileSync(this.file.path, JSON.stringify({ tenants }, null, 2), { mode: 0o600 });
  }
}

/** The tenants of a state file, by issuer. A file of the older one-tenant shape names no issuer: it is left behind. */
function readTenants(file: string): Record<string, SavedTenant> {
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { tenants?: Record<string, SavedTenant> };
  return saved.tenants ?? {};
}
