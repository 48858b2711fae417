// A login through a custom database connection in import mode, as Auth0 runs it: its own store first,
// then (for a user it does not hold) the Login script, then the creation of the Auth0 user.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { runCustomDbScript, type ScriptContainer, type ScriptResult } from './run-custom-db-script';
import type { SimulatedTenant, TenantUser } from './simulated-tenant';

export interface CustomDbConnection {
  name: string;
  loginScript: string;
  getUserScript: string;
  configuration: Record<string, string>;
  /** The webtask container the scripts run in; its `global` is shared between runs. */
  container: ScriptContainer;
}

export type CustomDbLoginOutcome =
  /** Auth0 already held the user and checked the password itself: no script ran. */
  | { kind: 'existing'; user: TenantUser }
  /** The Login script vouched for the password: Auth0 created the user with it. */
  | { kind: 'migrated'; user: TenantUser; script: ScriptResult }
  | { kind: 'wrong-password'; script?: ScriptResult }
  | { kind: 'failed'; reason: string; script?: ScriptResult };

export interface CustomDbLoginOptions {
  tenant: SimulatedTenant;
  connection: CustomDbConnection;
  email: string;
  password: string;
  /** Simulates an interrupted migration: the Auth0 user is created without the profile's metadata. */
  dropMetadata?: boolean;
}

export async function loginThroughCustomDb(options: CustomDbLoginOptions): Promise<CustomDbLoginOutcome> {
  const { tenant, connection } = options;
  const existing = tenant.findByEmail(connection.name, options.email);
  if (existing) {
    return existing.password_hash && passwordMatches(options.password, existing.password_hash) ? { kind: 'existing', user: existing } : { kind: 'wrong-password' };
  }
  const script = await runCustomDbScript({ file: connection.loginScript, args: [options.email, options.password], configuration: connection.configuration, container: connection.container });
  if (script.timedOut) return { kind: 'failed', reason: 'the Login script ran past Auth0\'s 20 s limit', script };
  if (script.error) {
    return script.error.name === 'WrongUsernameOrPasswordError' ? { kind: 'wrong-password', script } : { kind: 'failed', reason: script.error.message, script };
  }
  const profile = script.profile;
  if (!profile || typeof profile.user_id !== 'string' || profile.user_id === '') return { kind: 'failed', reason: 'the Login script returned no user_id', script };
  const userId = `auth0|${profile.user_id}`;
  // Two concurrent first logins both reach here; the store keeps one user per id (Auth0: same id, same user).
  const user = tenant.users.get(userId) ?? {
    user_id: userId,
    connection: connection.name,
    email: typeof profile.email === 'string' ? profile.email : options.email,
    email_verified: profile.email_verified === true,
    name: typeof profile.name === 'string' ? profile.name : undefined,
    picture: typeof profile.picture === 'string' ? profile.picture : undefined,
    logins_count: 0,
    created_at: new Date().toISOString(),
    user_metadata: options.dropMetadata ? {} : asObject(profile.user_metadata),
    app_metadata: options.dropMetadata ? {} : asObject(profile.app_metadata),
    password_hash: hashPassword(options.password),
  };
  tenant.users.set(userId, user);
  tenant.save();
  return { kind: 'migrated', user, script };
}

const asObject = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? structuredClone(value as Record<string, unknown>) : {});

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('base64')}:${scryptSync(password, salt, 32).toString('base64')}`;
}

function passwordMatches(password: string, stored: string): boolean {
  const [salt, hash] = stored.split(':').map((part) => Buffer.from(part, 'base64'));
  return Boolean(salt && hash) && timingSafeEqual(scryptSync(password, salt!, 32), hash!);
}
