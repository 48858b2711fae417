// `legacy:status`: how far the migration is, and the users in a state that needs an operator, each with what to do.
import type { Pool } from 'pg';
import { UNSALTED_FAST_HASH_SQL } from './fast-hashes';

export interface MigrationStatus {
  total: number;
  migrated: number;
  waiting: number;
  /** Migrations per day over the last `days` days, oldest first (days without one included). */
  perDay: Array<{ day: string; migrated: number }>;
  problems: Array<{ kind: 'linked-with-hash' | 'in-auth0-not-linked' | 'deleted-waiting'; count: number; examples: string[]; action: string }>;
  /** Not inconsistencies (the exit code ignores them) but risks an operator should act on. */
  warnings: Array<{ kind: 'unsalted-fast-hash'; count: number; examples: string[]; action: string }>;
  /** Waiting legacy users whose address another (non-legacy) user row also has, e.g. a Google sign-up. */
  sameEmailElsewhere: { count: number; examples: string[] };
}

const EXAMPLES = 5;

// Signs that Auth0 knows a legacy user although addUser never linked them: a reconcile, backfill,
// users:import or the log stream wrote Auth0's view onto the row (legacy:import writes none of these).
const KNOWN_TO_AUTH0 = `(connection IS NOT NULL OR logins_count > 0 OR last_login_at IS NOT NULL OR last_event_at IS NOT NULL)`;

export async function readMigrationStatus(pool: Pool, days = 7): Promise<MigrationStatus> {
  const { rows: [counts] } = await pool.query<{ total: number; migrated: number; waiting: number }>(`
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE migrated_at IS NOT NULL)::int AS migrated,
           count(*) FILTER (WHERE migrated_at IS NULL AND deleted_at IS NULL)::int AS waiting
      FROM users WHERE legacy_id IS NOT NULL`);
  const { rows: perDay } = await pool.query<{ day: string; migrated: number }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, count(u.id)::int AS migrated
       FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - ($1::int - 1) * interval '1 day', date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS day
       LEFT JOIN users u ON u.migrated_at IS NOT NULL AND date_trunc('day', u.migrated_at AT TIME ZONE 'UTC') = day
      GROUP BY day ORDER BY day`,
    [days],
  );
  const problem = async <Kind extends string>(kind: Kind, where: string, action: string) => {
    const { rows } = await pool.query<{ count: number; examples: string[] | null }>(
      `SELECT count(*)::int AS count, (array_agg(legacy_id ORDER BY legacy_id))[1:${EXAMPLES}] AS examples FROM users WHERE legacy_id IS NOT NULL AND ${where}`,
    );
    return { kind, count: rows[0]!.count, examples: rows[0]!.examples ?? [], action };
  };
  const problems = [
    await problem('linked-with-hash', 'migrated_at IS NOT NULL AND password_hash IS NOT NULL', 'Auth0 holds their password: erase the legacy hash with `npm run legacy:finish -- --apply` (it links and erases).'),
    await problem(
      'in-auth0-not-linked',
      `migrated_at IS NULL AND deleted_at IS NULL AND ${KNOWN_TO_AUTH0}`,
      'Auth0 knows them (seen by reconcile, backfill or the log stream) but addUser never linked them: their next login links them; `npm run legacy:finish -- --apply` links them now.',
    ),
    await problem('deleted-waiting', 'migrated_at IS NULL AND deleted_at IS NOT NULL', 'Deleted in Auth0 before they were linked: nothing to migrate; delete the rows if your retention allows.'),
  ];
  // Auth0 imports these and rehashes each with bcrypt at its first login there, so they are no reason to
  // refuse; but while they sit here, one leak of this table gives most of their passwords away.
  const unsalted = await problem(
    'unsalted-fast-hash',
    `migrated_at IS NULL AND deleted_at IS NULL AND password_hash IS NOT NULL AND ${UNSALTED_FAST_HASH_SQL}`,
    'their hashes (md4/md5/sha*/LDAP {MD5}/{SHA}, or HMAC with one key for everyone) are cracked in bulk if this table leaks: finish soon with `npm run legacy:finish -- --apply` (Auth0 rehashes each password with bcrypt at its next login, and the hash is erased here), keep database access and backups tight meanwhile, and consider a password reset for these users.',
  );
  const warnings = unsalted.count > 0 ? [unsalted] : [];
  const { rows: [same] } = await pool.query<{ count: number; examples: string[] | null }>(`
    SELECT count(*)::int AS count, (array_agg(l.legacy_id ORDER BY l.legacy_id))[1:${EXAMPLES}] AS examples
      FROM users l
     WHERE l.legacy_id IS NOT NULL AND l.migrated_at IS NULL
       AND EXISTS (SELECT 1 FROM users o WHERE o.legacy_id IS NULL AND lower(o.email) = lower(l.email))`);
  return { ...counts!, perDay, problems: problems.filter((entry) => entry.count > 0), warnings, sameEmailElsewhere: { count: same!.count, examples: same!.examples ?? [] } };
}

export function describeMigrationStatus(status: MigrationStatus): string[] {
  const percent = status.total === 0 ? 0 : Math.round((status.migrated / status.total) * 1000) / 10;
  const lines = [`legacy users: ${status.migrated} of ${status.total} migrated (${percent}%), ${status.waiting} still waiting`];
  const recent = status.perDay.reduce((sum, day) => sum + day.migrated, 0);
  lines.push(`migrated over the last ${status.perDay.length} days: ${recent} (${status.perDay.map((day) => `${day.day.slice(5)}: ${day.migrated}`).join(', ')})`);
  if (status.waiting > 0) {
    const perDay = recent / Math.max(status.perDay.length, 1);
    lines.push(
      perDay > 0
        ? `at that rate the rest log in within about ${Math.ceil(status.waiting / perDay)} days; many never will: \`npm run legacy:finish\` imports them with their hashes`
        : 'nobody migrated lately: `npm run legacy:finish` imports the users who never logged in, with their hashes',
    );
  }
  if (status.problems.length === 0) lines.push('inconsistent users: none');
  for (const problem of status.problems) {
    lines.push(`INCONSISTENT ${problem.kind}: ${problem.count} (e.g. ${problem.examples.join(', ')})`, `  what to do: ${problem.action}`);
  }
  for (const warning of status.warnings) {
    lines.push(`WARNING ${warning.kind}: ${warning.count} waiting users (e.g. ${warning.examples.join(', ')})`, `  what to do: ${warning.action}`);
  }
  if (status.sameEmailElsewhere.count > 0) {
    lines.push(
      `note: ${status.sameEmailElsewhere.count} waiting legacy users share their address with another user (e.g. ${status.sameEmailElsewhere.examples.join(', ')}), such as a Google sign-up.`,
      '  They are different Auth0 users and are never merged by email; see the README on account linking.',
    );
  }
  return lines;
}
