// Owns the users table's reads and the writes of addUser and me: the idempotent upsert by Auth0 id.
import { Prisma } from '../../generated/prisma/client';
import type { User, UserChange } from '../../generated/prisma/client';
import type { UserViewer } from '../../auth/viewer';
import type { PrismaClient } from '../../db/prisma';
import type { PreparedStatement, SqlClient } from '../../db/sql';
import { badUserInput, forbidden } from '../../errors';
import { CursorCodec, pageSize, toPage, type Page } from '../common/cursor';
import { Auth0IdSchema, isEmailAddress, MeUpdateSchema, parseUserProfile, parseUserUpdate } from './user-input';
import type { UserWriteBack } from './user-write-back';
import { MARK_SYNC_WRITE, USER_COLUMNS } from './user-sync-writes';

export interface UpsertResult {
  user: User;
  created: boolean;
}

// Profile fields a later call overwrites when it carries them; left out, the stored value stays.
const PROFILE_COLUMNS = {
  email: 'email',
  emailVerified: 'email_verified',
  name: 'name',
  picture: 'picture',
  connection: 'connection',
} as const;

const USERS_LIST = 'users';

// The viewer's row: the first statement of every end-user request.
const USER_BY_AUTH0_ID: PreparedStatement = { name: 'user_by_auth0_id', text: `SELECT ${USER_COLUMNS.text} FROM users WHERE auth0_id = $1` };

/**
 * addUser's statement for one set of given profile fields (a bit each, in PROFILE_COLUMNS' order):
 * a field left out keeps its stored value. At most 32 texts, each prepared once per connection.
 */
function addUserStatement(given: number): PreparedStatement {
  const updates = Object.values(PROFILE_COLUMNS)
    .filter((_, bit) => (given & (1 << bit)) !== 0)
    .map((column) => `${column} = EXCLUDED.${column}`);
  return {
    name: `add_user_${given}`,
    text: `
      INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
      SELECT $1::varchar, $2::varchar, $3::boolean, $4::varchar, $5::varchar, $6::varchar, $7::int, $8::timestamptz
      -- Auth0's own profile: marked as the sync's write, so the push trigger never sends it back.
      WHERE ${MARK_SYNC_WRITE.text} IS NOT NULL
      ON CONFLICT (auth0_id) DO UPDATE SET
        ${[
          ...updates,
          'logins_count = GREATEST(users.logins_count, EXCLUDED.logins_count)',
          'last_login_at = GREATEST(users.last_login_at, EXCLUDED.last_login_at)',
          // Linking a legacy user (issue 12): a legacy row already carries its future Auth0 id, so
          // addUser for that id lands here and makes it that Auth0 user: same row, same
          // transactions, and the legacy hash goes, since Auth0 now holds the password.
          'password_hash = NULL',
          'migrated_at = CASE WHEN users.legacy_id IS NULL THEN NULL ELSE COALESCE(users.migrated_at, now()) END',
          'updated_at = now()',
        ].join(',\n        ')}
      RETURNING ${USER_COLUMNS.text}, (xmax = 0) AS created`,
  };
}
const ADD_USER_STATEMENTS = Array.from({ length: 1 << Object.keys(PROFILE_COLUMNS).length }, (_, given) => addUserStatement(given));

/** A user deleted in Auth0 keeps their data for the retention period, but no longer any access. */
function refuseDeleted(user: User): User {
  if (user.deletedAt) throw forbidden('This user was deleted in Auth0.');
  return user;
}

export class UsersService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlClient,
    private readonly cursors: CursorCodec,
    private readonly claimsNamespace: string,
    private readonly writeBack: UserWriteBack,
  ) {}

  /** Back office: changes any user, in Auth0 and here as one outcome. */
  updateUser(auth0Id: string, input: unknown): Promise<User> {
    this.requireAuth0Id(auth0Id);
    return this.writeBack.update(auth0Id, parseUserUpdate(input));
  }

  /** An end user changes their own name, picture or user_metadata; the row is provisioned first if missing. */
  async updateMe(viewer: UserViewer, input: unknown): Promise<User> {
    const patch = parseUserUpdate(input, MeUpdateSchema);
    const user = await this.findOrProvision(viewer);
    return this.writeBack.update(user.auth0Id, patch);
  }

  deleteUser(auth0Id: string): Promise<{ auth0Id: string; deletedAt: Date }> {
    this.requireAuth0Id(auth0Id);
    return this.writeBack.delete(auth0Id);
  }

  /** The newest changes sent to Auth0 for one user, newest first. */
  listChanges(auth0Id: string, first?: number | null): Promise<UserChange[]> {
    this.requireAuth0Id(auth0Id);
    return this.prisma.userChange.findMany({ where: { auth0Id }, orderBy: { id: 'desc' }, take: pageSize(first) });
  }

  private requireAuth0Id(auth0Id: string): void {
    if (!Auth0IdSchema.safeParse(auth0Id).success) throw badUserInput('auth0Id', 'must be an Auth0 user id such as "google-oauth2|1098..."');
  }

  findByAuth0Id(auth0Id: string): Promise<User | null> {
    if (!Auth0IdSchema.safeParse(auth0Id).success) throw badUserInput('auth0Id', 'must be an Auth0 user id such as "google-oauth2|1098..."');
    return this.prisma.user.findUnique({ where: { auth0Id } });
  }

  /**
   * The viewer's row, created on the spot from the token when it is missing (the Action failed, or
   * the user predates it). Concurrent first requests meet in ON CONFLICT DO NOTHING: one row.
   */
  async findOrProvision(viewer: UserViewer): Promise<User> {
    const [existing] = await this.sql.prepared<User>(USER_BY_AUTH0_ID, [viewer.auth0Id]);
    if (existing) return refuseDeleted(existing);
    if (!Auth0IdSchema.safeParse(viewer.auth0Id).success) throw forbidden('The token\'s subject is not an Auth0 user id.');
    const email = viewer.claims[`${this.claimsNamespace}email`];
    const emailVerified = viewer.claims[`${this.claimsNamespace}email_verified`];
    const connection = viewer.auth0Id.slice(0, viewer.auth0Id.indexOf('|'));
    const inserted = await this.prisma.$queryRaw<User[]>`
      INSERT INTO users (auth0_id, email, email_verified, connection)
      VALUES (${viewer.auth0Id}, ${typeof email === 'string' && isEmailAddress(email) ? email : null},
              ${emailVerified === true}, ${connection})
      ON CONFLICT (auth0_id) DO NOTHING
      RETURNING ${USER_COLUMNS}`;
    return refuseDeleted(inserted[0] ?? (await this.prisma.user.findUniqueOrThrow({ where: { auth0Id: viewer.auth0Id } })));
  }

  /** Users newest first, by keyset on (created_at, id). */
  async listPage(args: { first?: number | null; after?: string | null }): Promise<Page<User>> {
    const size = pageSize(args.first);
    const after = args.after == null ? undefined : this.cursors.decode(args.after, USERS_LIST);
    const keyset = after ? Prisma.sql`WHERE (created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : Prisma.empty;
    const rows = await this.prisma.$queryRaw<User[]>`
      SELECT ${USER_COLUMNS} FROM users ${keyset} ORDER BY created_at DESC, id DESC LIMIT ${size + 1}`;
    return toPage(rows, size, (user) => this.cursors.encode(USERS_LIST, [user.createdAt.toISOString(), user.id]));
  }

  /**
   * Creates the user or updates the profile in one INSERT ... ON CONFLICT statement, so retries,
   * duplicates and races leave exactly one row. Counters and login times only move forward.
   * One autocommit statement: the sync marker is set by set_config(..., true) inside it.
   */
  async upsertUserByAuth0Id(rawInput: unknown): Promise<UpsertResult> {
    const input = parseUserProfile(rawInput);
    const given = Object.keys(PROFILE_COLUMNS).reduce((bits, field, bit) => (input[field as keyof typeof PROFILE_COLUMNS] === undefined ? bits : bits | (1 << bit)), 0);
    const rows = await this.sql.prepared<User & { created: boolean }>(ADD_USER_STATEMENTS[given]!, [
      input.auth0Id,
      input.email ?? null,
      input.emailVerified ?? false,
      input.name ?? null,
      input.picture ?? null,
      input.connection ?? null,
      input.loginsCount ?? 0,
      input.lastLoginAt ?? null,
    ]);

    const row = rows[0];
    if (!row) throw new Error('INSERT ... ON CONFLICT returned no row');
    const { created, ...user } = row;
    return { user, created };
  }
}
