// The state an Auth0 tenant keeps between logins: users (login counts, app_metadata) and an Action's cache.
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ManagementUser, ManagementUsersStore } from './management-users-endpoints';

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
  blocked?: boolean;
  /** Set by every change through the Management API, as Auth0 does. */
  updated_at?: string;
}

/** One tenant's state in the file. */
interface TenantFile {
  users?: TenantUser[];
  cache?: Record<string, CacheEntry>;
}

/** Where a tenant's state outlives a process: a JSON file, and the issuer whose tenant it is. */
export interface TenantStateFile {
  path: string;
  /** The tenant's issuer URL. One file holds several tenants, by issuer; each issuer sees only its own. */
  issuer: string;
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

/**
 * Users and one Action's cache, of one tenant; optionally kept in a JSON file so that state outlives a
 * process. In Auth0 the cache belongs to a tenant, so a token cached under one issuer is never handed to
 * the Action of another: a server restarted on another port is another issuer, and the simulated tenant
 * behind it starts with its own (empty) users and cache.
 * Auth0: Actions are "tenant-specific" functions (https://auth0.com/docs/customize/actions), and api.cache
 * values "are scoped to the Trigger in which they are set" (https://auth0.com/docs/customize/actions/
 * explore-triggers/signup-and-login-triggers/post-user-registration-trigger/api-object), a trigger of one tenant.
 */
export class SimulatedTenant {
  readonly users = new Map<string, TenantUser>();
  readonly cache: ActionCache;
  /** The users as read, so that save() writes only what this process changed into what the file holds then. */
  private readonly loaded = new Map<string, TenantUser>();

  constructor(
    private readonly file?: TenantStateFile,
    now: () => number = Date.now,
  ) {
    const saved = file ? readTenantFile(file) : {};
    for (const user of saved.users ?? []) {
      this.users.set(user.user_id, user);
      this.loaded.set(user.user_id, structuredClone(user));
    }
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

  /**
   * Writes this process's logins into the file as it is now, under the file's lock: the local
   * server's Management API (another process) may have changed or deleted users since they were read.
   */
  save(): void {
    const { file } = this;
    if (!file) return;
    withTenantFileLock(file.path, () => {
      const current = new Map((readTenantFile(file).users ?? []).map((user) => [user.user_id, user]));
      for (const [id, mine] of this.users) {
        const before = this.loaded.get(id);
        const theirs = current.get(id);
        if (!before) current.set(id, theirs ? mergeChanges(theirs, { ...theirs, logins_count: 0 }, mine) : mine);
        else if (theirs) current.set(id, mergeChanges(theirs, before, mine));
        // else: deleted meanwhile (the local Management API's DELETE); Auth0 would not bring them back.
      }
      writeTenantFile(file, { users: [...current.values()], cache: this.cache.toJSON() });
      // What was written is the new starting point, so that a second save() adds nothing twice.
      for (const [id, mine] of this.users) {
        const written = current.get(id);
        if (!written) {
          this.users.delete(id);
          this.loaded.delete(id);
          continue;
        }
        Object.assign(mine, structuredClone(written));
        this.loaded.set(id, structuredClone(written));
      }
    });
  }
}

/** `theirs` plus what this process changed since `before`: login counts add up, metadata merges key by key. */
function mergeChanges(theirs: TenantUser, before: TenantUser, mine: TenantUser): TenantUser {
  const merged: TenantUser = { ...theirs, logins_count: theirs.logins_count + mine.logins_count - before.logins_count };
  for (const key of ['app_metadata', 'user_metadata'] as const) {
    const changed = Object.entries(mine[key]).filter(([name, value]) => !isDeepStrictEqual(before[key]?.[name], value));
    const removed = Object.keys(before[key] ?? {}).filter((name) => !(name in mine[key]));
    merged[key] = { ...Object.fromEntries(Object.entries(theirs[key] ?? {}).filter(([name]) => !removed.includes(name))), ...Object.fromEntries(changed) };
  }
  for (const key of Object.keys(mine) as Array<keyof TenantUser>) {
    if (key === 'logins_count' || key === 'app_metadata' || key === 'user_metadata') continue;
    if (!isDeepStrictEqual(before[key], mine[key])) (merged as unknown as Record<string, unknown>)[key] = mine[key];
  }
  return merged;
}

/** Every tenant of a state file, by issuer. A file of the older one-tenant shape names no issuer: it is left behind. */
function readTenants(file: string): Record<string, TenantFile> {
  if (!fs.existsSync(file)) return {};
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { tenants?: Record<string, TenantFile> }).tenants ?? {};
}

function readTenantFile(file: TenantStateFile): TenantFile {
  return readTenants(file.path)[file.issuer] ?? {};
}

// Written aside and renamed: a reader never sees half a file. Called under the file's lock, so the
// other tenants read here are current.
function writeTenantFile(file: TenantStateFile, content: TenantFile): void {
  fs.mkdirSync(path.dirname(file.path), { recursive: true });
  const tenants = { ...readTenants(file.path), [file.issuer]: content };
  const aside = `${file.path}.${process.pid}.tmp`;
  fs.writeFileSync(aside, JSON.stringify({ tenants }, null, 2), { mode: 0o600 });
  fs.renameSync(aside, file.path);
}

const LOCK_WAIT_MS = 10_000;
// A lock older than this was left by a process that died while holding it (a hold lasts milliseconds).
const LOCK_STALE_MS = 5_000;

/** Runs `work` holding `<file>.lock` (created exclusively), so that read-modify-writes from several processes never lose each other's. */
export function withTenantFileLock<T>(file: string, work: () => T): T {
  const lock = `${file}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} has been held for over ${LOCK_WAIT_MS} ms by another process`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** The users of the tenant file as the Management API shows them, each change written under the lock. */
export function tenantFileUsersStore(file: TenantStateFile): ManagementUsersStore {
  return {
    transact: (work) =>
      withTenantFileLock(file.path, () => {
        const content = readTenantFile(file);
        const users = new Map((content.users ?? []).map((user) => [user.user_id, user]));
        let changed = false;
        const result = work({
          find: (id) => {
            const user = users.get(id);
            return user && toManagementUser(user);
          },
          put: (user) => {
            const stored = users.get(user.user_id);
            if (!stored) return;
            const { identities: _identities, ...fields } = user;
            users.set(user.user_id, { ...stored, ...(fields as Partial<TenantUser>) });
            changed = true;
          },
          remove: (id) => {
            changed = users.delete(id) || changed;
          },
        });
        if (changed) writeTenantFile(file, { ...content, users: [...users.values()] });
        return result;
      }),
  };
}

/** What Auth0 answers for a user: never the password hash; the identity tells a social user from a database one. */
function toManagementUser(user: TenantUser): ManagementUser {
  const { password_hash: _hash, connection, ...fields } = user;
  const [provider, id] = user.user_id.split('|', 2) as [string, string];
  return {
    ...fields,
    blocked: user.blocked ?? false,
    updated_at: user.updated_at ?? user.created_at,
    identities: [{ connection, provider, user_id: id, isSocial: provider !== 'auth0' }],
  };
}
