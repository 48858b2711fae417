// The custom database connection of the automatic migration, as code: created or updated with its two
// scripts, their configuration and import mode; and, once every user has moved, its scripts as no-ops.
import { createHash } from 'node:crypto';
import type { ManagementClient } from 'auth0';

const FINGERPRINT = /\n\/\/ deploy-fingerprint: [0-9a-f]{64}\n?$/;

/** What Auth0 advises once the migration is over: the scripts answer "no such user"; import mode stays on. */
export const NO_OP_SCRIPTS = {
  login: 'function login(email, password, callback) {\n  // The migration is finished: every legacy user is in Auth0.\n  return callback(new WrongUsernameOrPasswordError(email));\n}\n',
  get_user: 'function getUser(email, callback) {\n  // The migration is finished: every legacy user is in Auth0.\n  return callback(null);\n}\n',
};

export interface LegacyConnectionOptions {
  management: ManagementClient;
  name: string;
  scripts: { login: string; get_user: string };
  /** The scripts' `configuration` (secrets included); their values are never printed. */
  configuration: Record<string, string>;
  say(line: string): void;
}

type Options = Record<string, unknown> & { customScripts?: Record<string, string>; configuration?: Record<string, string> };

export async function findDatabaseConnection(management: ManagementClient, name: string): Promise<{ id: string; options: Options } | undefined> {
  const page = await management.connections.list({ name, strategy: 'auth0' });
  const found = page.data.find((connection) => connection.name === name);
  if (!found?.id) return undefined;
  const connection = await management.connections.get(found.id);
  return { id: found.id, options: (connection.options ?? {}) as Options };
}

/**
 * Idempotent: each script carries a fingerprint of its code and of the configuration values
 * (which Auth0 keeps encrypted), so a second run with the same inputs changes nothing.
 */
export async function deployLegacyConnection(options: LegacyConnectionOptions): Promise<{ id: string; changed: boolean }> {
  const { management, name, say } = options;
  const print = fingerprint(options.scripts, options.configuration);
  const customScripts = {
    login: `${options.scripts.login.replace(FINGERPRINT, '').trimEnd()}\n// deploy-fingerprint: ${print}\n`,
    get_user: `${options.scripts.get_user.replace(FINGERPRINT, '').trimEnd()}\n// deploy-fingerprint: ${print}\n`,
  };
  const existing = await findDatabaseConnection(management, name);
  if (!existing) {
    const created = await management.connections.create({
      name,
      strategy: 'auth0',
      options: { enabledDatabaseCustomization: true, import_mode: true, customScripts, configuration: options.configuration } as Record<string, unknown>,
    });
    say(`created the custom database connection "${name}" (${created.id}): import mode on, Login and Get User scripts, configuration ${Object.keys(options.configuration).join(', ')}`);
    say('enable it for your applications in the dashboard (Authentication > Database > ' + name + ' > Applications)');
    return { id: created.id!, changed: true };
  }
  const current = existing.options;
  const upToDate =
    current.enabledDatabaseCustomization === true &&
    current.import_mode === true &&
    current.customScripts?.login === customScripts.login &&
    current.customScripts?.get_user === customScripts.get_user;
  if (upToDate) {
    say(`the custom database connection "${name}" (${existing.id}) is up to date`);
    return { id: existing.id, changed: false };
  }
  // PATCH replaces `options` as a whole: keep everything else the connection has (password policy...).
  await management.connections.update(existing.id, {
    options: { ...current, enabledDatabaseCustomization: true, import_mode: true, customScripts: { ...current.customScripts, ...customScripts }, configuration: options.configuration } as Record<string, unknown>,
  });
  say(`updated the custom database connection "${name}" (${existing.id}): import mode on, scripts and configuration`);
  return { id: existing.id, changed: true };
}

/** The last step of `legacy:finish`: the scripts become no-ops, import mode stays on. Idempotent. */
export async function switchToNoOpScripts(management: ManagementClient, connection: { id: string; options: Options }, say: (line: string) => void): Promise<boolean> {
  const scripts = connection.options.customScripts ?? {};
  if (scripts.login === NO_OP_SCRIPTS.login && scripts.get_user === NO_OP_SCRIPTS.get_user) {
    say('the connection\'s scripts are already no-ops');
    return false;
  }
  await management.connections.update(connection.id, {
    options: { ...connection.options, import_mode: true, customScripts: { ...scripts, ...NO_OP_SCRIPTS } } as Record<string, unknown>,
  });
  say('switched the connection\'s Login and Get User scripts to no-ops (import mode stays on)');
  return true;
}

function fingerprint(scripts: { login: string; get_user: string }, configuration: Record<string, string>): string {
  const hash = createHash('sha256');
  hash.update(scripts.login.replace(FINGERPRINT, '').trimEnd()).update('\0').update(scripts.get_user.replace(FINGERPRINT, '').trimEnd());
  for (const key of Object.keys(configuration).sort()) hash.update(`\0${key}\0${configuration[key]}`);
  return hash.digest('hex');
}
