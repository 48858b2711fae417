// Owns the users table: the idempotent upsert by Auth0 id.
import { Prisma } from '../../generated/prisma/client';
import type { User } from '../../generated/prisma/client';
import type { PrismaClient } from '../../db/prisma';
import { parseUserProfile } from './user-input';

export interface UpsertResult {
  user: User;
  created: boolean;
}

const USER_COLUMNS = Prisma.sql`
  id, auth0_id AS "auth0Id", email, email_verified AS "emailVerified", name, picture, connection,
  logins_count AS "loginsCount", last_login_at AS "lastLoginAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

// Profile fields a later call overwrites when it carries them; left out, the stored value stays.
const PROFILE_COLUMNS = {
  email: 'email',
  emailVerified: 'email_verified',
  name: 'name',
  picture: 'picture',
  connection: 'connection',
} as const;

export class UsersService {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Creates the user or updates the profile in one INSERT ... ON CONFLICT statement, so retries,
   * duplicates and races leave exactly one row. Counters and login times only move forward.
   */
  async upsertUserByAuth0Id(rawInput: unknown): Promise<UpsertResult> {
    const input = parseUserProfile(rawInput);
    const updates = Object.entries(PROFILE_COLUMNS)
      .filter(([field]) => input[field as keyof typeof PROFILE_COLUMNS] !== undefined)
      .map(([, column]) => Prisma.sql`${Prisma.raw(column)} = EXCLUDED.${Prisma.raw(column)}`);

    const rows = await this.prisma.$queryRaw<Array<User & { created: boolean }>>`
      INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
      VALUES (${input.auth0Id}, ${input.email ?? null}, ${input.emailVerified ?? false}, ${input.name ?? null},
              ${input.picture ?? null}, ${input.connection ?? null}, ${input.loginsCount ?? 0}, ${input.lastLoginAt ?? null})
      ON CONFLICT (auth0_id) DO UPDATE SET
        ${Prisma.join([
          ...updates,
          Prisma.sql`logins_count = GREATEST(users.logins_count, EXCLUDED.logins_count)`,
          Prisma.sql`last_login_at = GREATEST(users.last_login_at, EXCLUDED.last_login_at)`,
          Prisma.sql`updated_at = now()`,
        ])}
      RETURNING ${USER_COLUMNS}, (xmax = 0) AS created`;

    const row = rows[0];
    if (!row) throw new Error('INSERT ... ON CONFLICT returned no row');
    const { created, ...user } = row;
    return { user, created };
  }
}
