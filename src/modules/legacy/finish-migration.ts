// `legacy:finish`: imports the legacy users who never logged in into Auth0 with their hashes (users-imports
// job, custom_password_hash), links them, then switches the connection's scripts to no-ops.
import type { ManagementClient } from 'auth0';
import type { Pool } from 'pg';
import { findDatabaseConnection, switchToNoOpScripts } from '../../auth0-deploy/deploy-legacy-connection';
import { linkLegacyUsers } from '../users/legacy-users';
import { readImportJobErrors } from './import-job-errors';
import { auth0CustomPasswordHash } from './password-hashes';

// Auth0 refuses users files over 500 KB; stay under it with the multipart overhead.
const MAX_FILE_BYTES = 450 * 1024;

export interface FinishOptions {
  pool: Pool;
  management?: ManagementClient;
  connectionName: string;
  apply: boolean;
  say(line: string): void;
  pollIntervalMs?: number;
  jobTimeoutMs?: number;
}

export interface FinishReport {
  toImport: number;
  refused: Array<{ legacyId: string; reason: string }>;
  imported: number;
  alreadyInAuth0: number;
  failed: Array<{ legacyId: string; reason: string }>;
  linked: number;
  switchedToNoOps: boolean;
}

interface WaitingRow {
  legacy_id: string;
  email: string;
  email_verified: boolean;
  name: string | null;
  picture: string | null;
  password_hash: string;
  legacy_user_metadata: Record<string, unknown> | null;
  legacy_app_metadata: Record<string, unknown> | null;
  migrated_at: Date | null;
}

export async function finishMigration(options: FinishOptions): Promise<FinishReport> {
  const { pool, say } = options;
  const { rows } = await pool.query<WaitingRow>(
    `SELECT legacy_id, email, email_verified, name, picture, password_hash, legacy_user_metadata, legacy_app_metadata, migrated_at
       FROM users WHERE legacy_id IS NOT NULL AND password_hash IS NOT NULL AND deleted_at IS NULL ORDER BY legacy_id`,
  );
  // Linked users still holding a hash are already in Auth0: they only need the hash erased.
  const linkedWithHash = rows.filter((row) => row.migrated_at !== null);
  const waiting = rows.filter((row) => row.migrated_at === null);
  const report: FinishReport = { toImport: 0, refused: [], imported: 0, alreadyInAuth0: 0, failed: [], linked: 0, switchedToNoOps: false };
  const importable: Array<Record<string, unknown>> = [];
  for (const row of waiting) {
    const hash = auth0CustomPasswordHash(row.password_hash);
    if (typeof hash === 'string') {
      report.refused.push({ legacyId: row.legacy_id, reason: `unreadable hash, re-import it with legacy:import (a string form or an Auth0 custom_password_hash object): ${hash}` });
      continue;
    }
    importable.push({
      user_id: row.legacy_id,
      email: row.email,
      email_verified: row.email_verified,
      ...(row.name ? { name: row.name } : {}),
      ...(row.picture ? { picture: row.picture } : {}),
      ...(row.legacy_user_metadata ? { user_metadata: row.legacy_user_metadata } : {}),
      ...(row.legacy_app_metadata ? { app_metadata: row.legacy_app_metadata } : {}),
      custom_password_hash: hash,
    });
  }
  report.toImport = importable.length;
  say(`${waiting.length} legacy users never logged in: ${importable.length} can be imported with their hashes, ${report.refused.length} cannot`);
  for (const refused of report.refused) say(`  refused ${refused.legacyId}: ${refused.reason}`);
  if (linkedWithHash.length > 0) say(`${linkedWithHash.length} linked users still hold a legacy hash: it will be erased`);

  if (!options.apply) {
    say(`dry run: nothing was sent or changed. With --apply: ${chunk(importable).length} users-imports job(s) into "${options.connectionName}", link the imported users, then ${report.refused.length === 0 ? "switch the connection's scripts to no-ops" : `keep the scripts (${report.refused.length} users can only migrate by logging in)`}.`);
    return report;
  }
  const management = options.management;
  if (!management) throw new Error('--apply needs the Management API (AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET)');
  const connection = await findDatabaseConnection(management, options.connectionName);
  if (!connection) throw new Error(`no database connection named "${options.connectionName}": deploy it with npm run action:deploy -- --legacy-connection ${options.connectionName}`);

  for (const [index, users] of chunk(importable).entries()) {
    const { present, failed } = await runImportJob(management, connection.id, users, options);
    report.imported += present.imported;
    report.alreadyInAuth0 += present.duplicates.length;
    report.failed.push(...failed);
    // Linked after each job: a run stopped half-way resumes where it was.
    const linked = await linkLegacyUsers(pool, [...present.ids].map((legacyId) => `auth0|${legacyId}`));
    report.linked += linked.length;
    say(`job ${index + 1}: ${users.length} users sent, ${present.imported} imported, ${present.duplicates.length} already in Auth0, ${failed.length} failed; ${linked.length} linked`);
    for (const failure of failed) say(`  failed ${failure.legacyId}: ${failure.reason}`);
  }
  if (linkedWithHash.length > 0) {
    const erased = await linkLegacyUsers(pool, linkedWithHash.map((row) => `auth0|${row.legacy_id}`));
    report.linked += erased.length;
    say(`erased the legacy hash of ${erased.length} linked users`);
  }

  const { rows: [left] } = await pool.query<{ waiting: number }>(`SELECT count(*)::int AS waiting FROM users WHERE legacy_id IS NOT NULL AND migrated_at IS NULL AND deleted_at IS NULL`);
  if (left!.waiting === 0) {
    report.switchedToNoOps = await switchToNoOpScripts(management, connection, say);
  } else {
    say(`${left!.waiting} legacy users are still waiting: the connection's scripts stay, so that they can still migrate by logging in. Fix what is reported above and run this again.`);
  }
  return report;
}

/** Files of at most MAX_FILE_BYTES of JSON each. */
function chunk(users: Array<Record<string, unknown>>): Array<Array<Record<string, unknown>>> {
  const chunks: Array<Array<Record<string, unknown>>> = [];
  let current: Array<Record<string, unknown>> = [];
  let bytes = 2;
  for (const user of users) {
    const size = Buffer.byteLength(JSON.stringify(user)) + 1;
    if (current.length > 0 && bytes + size > MAX_FILE_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    current.push(user);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface JobOutcome {
  present: { ids: Set<string>; imported: number; duplicates: string[] };
  failed: Array<{ legacyId: string; reason: string }>;
}

async function runImportJob(management: ManagementClient, connectionId: string, users: Array<Record<string, unknown>>, options: FinishOptions): Promise<JobOutcome> {
  // upsert off: a user Auth0 already holds (e.g. who logged in meanwhile, maybe changing their password) is left alone.
  const job = await management.jobs.usersImports.create({
    users: { data: Buffer.from(JSON.stringify(users)), filename: 'legacy-users.json', contentType: 'application/json' },
    connection_id: connectionId,
    upsert: false,
    send_completion_email: false,
  });
  const deadline = Date.now() + (options.jobTimeoutMs ?? 10 * 60 * 1000);
  let summary: { failed?: number } | undefined;
  for (;;) {
    const status = await management.jobs.get(job.id!);
    if (status.status === 'completed') {
      summary = (status as { summary?: { failed?: number } }).summary;
      break;
    }
    if (status.status === 'failed') throw new Error(`the users-imports job ${job.id} failed; nothing of it was linked. Run legacy:finish --apply again.`);
    if (Date.now() > deadline) throw new Error(`the users-imports job ${job.id} was still "${status.status}" at the deadline; run legacy:finish --apply again later`);
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 2000));
  }
  const answer = await readImportJobErrors(management, job.id!);
  if (answer.kind === 'job') {
    // The job itself instead of its users: fine when its summary counts no failure; otherwise which users
    // failed is unknown, so nothing is linked. A re-run is safe: upsert is off, so the users this job did
    // import come back as DUPLICATED_USER, are found in the tenant and linked then.
    if (answer.status === 'failed' || summary?.failed !== 0) {
      const failures = summary?.failed === undefined ? 'an unknown number of' : String(summary.failed);
      throw new Error(
        `the users-imports job ${job.id} (status "${answer.status}"${answer.details ? `: ${answer.details}` : ''}) reports ${failures} failed users, but Auth0 answered its errors with the job, not the list of users: nothing of this job was linked. Run legacy:finish --apply again.`,
      );
    }
  }
  const failed: JobOutcome['failed'] = [];
  const duplicates: string[] = [];
  const errored = new Set<string>();
  for (const entry of answer.kind === 'per-user' ? answer.users : []) {
    errored.add(entry.legacyId);
    if (entry.codes.length > 0 && entry.codes.every((code) => code === 'DUPLICATED_USER')) duplicates.push(entry.legacyId);
    else failed.push({ legacyId: entry.legacyId, reason: entry.reason });
  }
  // DUPLICATED_USER can also mean "in Auth0's internal store but not in the tenant" (Auth0's
  // troubleshooting): only a user the tenant returns counts as present.
  const confirmed: string[] = [];
  for (const legacyId of duplicates) {
    if (await userExists(management, `auth0|${legacyId}`)) confirmed.push(legacyId);
    else failed.push({ legacyId, reason: 'DUPLICATED_USER but the tenant has no such user: delete it with the Management API (DELETE /api/v2/connections/{id}/users?email=...) and run again' });
  }
  const imported = users.map((user) => String(user.user_id)).filter((id) => !errored.has(id));
  return { present: { ids: new Set([...imported, ...confirmed]), imported: imported.length, duplicates: confirmed }, failed };
}

async function userExists(management: ManagementClient, auth0Id: string): Promise<boolean> {
  try {
    await management.users.get(auth0Id);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}
