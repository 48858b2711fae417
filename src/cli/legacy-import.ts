// `npm run legacy:import -- <file>`: loads a legacy user store (.ndjson or .ndjson.gz) as legacy users.
import fs from 'node:fs';
import { describeReadError, INVALID_LINES_EXIT_CODE, isGzipName, resolveExportPath, unreadableExport } from './export-file';
import { openSyncDatabase } from './sync-database';
import { importLegacyUsers } from '../modules/legacy/legacy-import';

/** The file being read, resolved against where the user typed the command. */
let file = '';

async function legacyImport(): Promise<void> {
  const given = process.argv[2];
  if (!given || given.startsWith('-')) {
    process.stderr.write(
      'Usage: npm run legacy:import -- <users.ndjson | users.ndjson.gz>\n  each line: {"id","email","email_verified","name","password_hash", optional "picture","user_metadata","app_metadata"}\n' +
        '  password_hash: a bcrypt, argon2, scrypt, PBKDF2 or LDAP string, or Auth0\'s custom_password_hash object for md4/md5/sha1/sha256/sha512/hmac (see the README)\n' +
        `  a relative path is read from the directory you run npm in\n  exits 0 when every line was imported, ${INVALID_LINES_EXIT_CODE} when some lines were refused (the rest are imported), 1 when it failed\n`,
    );
    process.exit(2);
  }
  file = resolveExportPath(given);
  const problem = unreadableExport(file);
  if (problem) throw new Error(problem);
  const input = fs.createReadStream(file);
  const db = await openSyncDatabase();
  try {
    const started = Date.now();
    const { counts, invalid } = await importLegacyUsers({ pool: db.pool, input, gzipped: isGzipName(file) });
    process.stdout.write(
      `imported in ${((Date.now() - started) / 1000).toFixed(1)}s: ${counts.lines} lines, ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged or already migrated, ${counts.invalid} refused\n`,
    );
    for (const line of invalid) process.stdout.write(`  line ${line.line}: ${line.reason}\n`);
    if (counts.invalid > invalid.length) process.stdout.write(`  ... and ${counts.invalid - invalid.length} more refused lines\n`);
    if (counts.invalid > 0) process.exitCode = INVALID_LINES_EXIT_CODE;
  } finally {
    await db.close();
  }
}

legacyImport().catch((error: unknown) => {
  process.stderr.write(`legacy:import failed: ${describeReadError(file, error)}\n`);
  process.exit(1);
});
