// The API side of Auth0's automatic migration: checking a legacy password and looking a legacy user up.
import type { Logger } from 'pino';
import type { PrismaClient } from '../../db/prisma';
import { badUserInput } from '../../errors';
import { Auth0IdSchema, isEmailAddress } from '../users/user-input';
import { AttemptLimiter, type AttemptLimit } from './attempt-limiter';
import { DecoyHashes, DEFAULT_DECOY_OPTIONS, type DecoyOptions } from './decoy-hashes';
import { dummyHash, MAX_PASSWORD_BYTES, parseLegacyHash, verifyPassword, type LegacyHash } from './password-hashes';

export interface LegacyProfile {
  legacyId: string;
  auth0Id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  picture: string | null;
  userMetadata: Record<string, unknown>;
  appMetadata: Record<string, unknown>;
  migratedAt: Date | null;
}

export interface LegacyLimits {
  perEmail: AttemptLimit;
  /** Per end-user address, when the caller passes one. */
  perAddress: AttemptLimit;
  /** Per calling machine client, always (with or without an address): a brake on a stuffing run as a whole. */
  perClient: AttemptLimit;
}

interface LegacyRow {
  legacyId: string;
  auth0Id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  picture: string | null;
  passwordHash: string | null;
  legacyUserMetadata: unknown;
  legacyAppMetadata: unknown;
  migratedAt: Date | null;
}

const LEGACY_COLUMNS = `legacy_id AS "legacyId", auth0_id AS "auth0Id", email, email_verified AS "emailVerified", name, picture,
  password_hash AS "passwordHash", legacy_user_metadata AS "legacyUserMetadata", legacy_app_metadata AS "legacyAppMetadata", migrated_at AS "migratedAt"`;

const IP_ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

export class LegacyService {
  private readonly perEmail: AttemptLimiter;
  private readonly perAddress: AttemptLimiter;
  private readonly perClient: AttemptLimiter;
  private readonly decoys: DecoyHashes;

  constructor(
    private readonly prisma: PrismaClient,
    limits: LegacyLimits,
    logger: Logger,
    decoyOptions: DecoyOptions = DEFAULT_DECOY_OPTIONS,
  ) {
    this.perEmail = new AttemptLimiter(limits.perEmail);
    this.perAddress = new AttemptLimiter(limits.perAddress);
    this.perClient = new AttemptLimiter(limits.perClient);
    this.decoys = new DecoyHashes(prisma, logger.child({ module: 'legacy' }), decoyOptions);
    // Made now, on the threadpool, so that the first unknown email of an empty store does not pay for making it.
    dummyHash().catch(() => undefined);
  }

  /**
   * The login script's question. Wrong password, unknown email, a migrated user, a refused
   * over-long bcrypt password and a limited key all answer `valid: false` after the same work:
   * the row lookup and one verification, against the user's own hash or, without one, a waiting
   * user's (see DecoyHashes). A limited key does that work too, so the limit cannot be timed.
   */
  async verifyPassword(input: { email: string; password: string; clientIp?: string | null }, caller: { clientId: string }, logger: Logger): Promise<{ valid: boolean; profile: LegacyProfile | null }> {
    // Refused before anything else, hashing included; the message never quotes the password.
    if (Buffer.byteLength(input.password, 'utf8') > MAX_PASSWORD_BYTES) throw badUserInput('input.password', `must be at most ${MAX_PASSWORD_BYTES} bytes`);
    const email = normalizeEmail(input.email, 'input.email');
    if (input.clientIp != null && !IP_ADDRESS.test(input.clientIp)) throw badUserInput('input.clientIp', 'must be an IPv4 or IPv6 address');
    // Failures count per calling client always, and per address when one is given: a caller passing a
    // fresh clientIp on every attempt must not move its failures off the client's counter.
    const emailKey = `email:${email}`;
    const clientKey = `client:${caller.clientId}`;
    const addressKey = input.clientIp ? `ip:${input.clientIp}` : undefined;
    const log = logger.child({ module: 'legacy' });
    const limitedBy = this.perEmail.isBlocked(emailKey) ? 'email' : addressKey && this.perAddress.isBlocked(addressKey) ? 'address' : this.perClient.isBlocked(clientKey) ? 'client' : undefined;

    const row = await this.findByEmail(email);
    const stored = row?.passwordHash && row.migratedAt === null ? parseLegacyHash(row.passwordHash) : undefined;
    if (typeof stored === 'string') log.error({ legacyId: row?.legacyId, reason: stored }, 'stored legacy hash cannot be read; answering as a wrong password');
    const hash: LegacyHash = stored && typeof stored !== 'string' ? stored : await this.decoys.pick();
    const verification = await verifyPassword(input.password, hash).catch((error: unknown) => {
      // A hash the library cannot read after all (corrupt parameters): a failed login, logged, never a 500.
      // Only the error's class is logged: a hashing library's message may quote the hash it refused.
      log.error({ legacyId: row?.legacyId, hashKind: hash.kind, error: error instanceof Error ? error.name : typeof error }, 'legacy hash verification failed');
      return { valid: false };
    });

    if (limitedBy) {
      // Answered only now, after the same work as any attempt: the result is discarded and not counted.
      log.warn({ limited: limitedBy }, 'legacy login refused: too many failed attempts');
      return { valid: false, profile: null };
    }
    const valid = verification.valid && hash === stored;
    if (!valid) {
      const failures = this.perEmail.recordFailure(emailKey);
      this.perClient.recordFailure(clientKey);
      if (addressKey) this.perAddress.recordFailure(addressKey);
      // About the user's own hash only: a decoy's refusal says nothing about anyone.
      if (hash === stored && 'refused' in verification && verification.refused) log.info({ legacyId: row?.legacyId, reason: verification.refused }, 'legacy password refused: longer than bcrypt reads (72 bytes); the user can reset it');
      log.info({ failures, known: hash === stored }, 'legacy login failed');
      return { valid: false, profile: null };
    }
    this.perEmail.clear(emailKey);
    return { valid: true, profile: toProfile(row!) };
  }

  /** How many failed attempts are counted against this address's email (for tests and operators). */
  failedAttempts(email: string): number {
    return this.perEmail.failures(`email:${normalizeEmail(email, 'email')}`);
  }

  /** The Get User script's question: a legacy user not yet in Auth0 (or whose Auth0 user was deleted: null). */
  async findProfileByEmail(rawEmail: string): Promise<LegacyProfile | null> {
    const row = await this.findByEmail(normalizeEmail(rawEmail, 'email'));
    return row ? toProfile(row) : null;
  }

  async findProfileByAuth0Id(auth0Id: string): Promise<LegacyProfile | null> {
    if (!Auth0IdSchema.safeParse(auth0Id).success) throw badUserInput('auth0Id', 'must be an Auth0 user id such as "auth0|1234"');
    const [row] = await this.prisma.$queryRawUnsafe<LegacyRow[]>(`SELECT ${LEGACY_COLUMNS} FROM users WHERE auth0_id = $1 AND legacy_id IS NOT NULL`, auth0Id);
    return row ? toProfile(row) : null;
  }

  private async findByEmail(email: string): Promise<LegacyRow | undefined> {
    // Served by the unique index on lower(email) of legacy rows.
    const [row] = await this.prisma.$queryRawUnsafe<LegacyRow[]>(
      `SELECT ${LEGACY_COLUMNS} FROM users WHERE lower(email) = $1 AND legacy_id IS NOT NULL AND deleted_at IS NULL`,
      email,
    );
    return row;
  }
}

function normalizeEmail(raw: string, field: string): string {
  const email = raw.trim().toLowerCase();
  if (!isEmailAddress(email)) throw badUserInput(field, 'must be an email address');
  return email;
}

const asObject = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** Everything but the hash. */
function toProfile(row: LegacyRow): LegacyProfile {
  return {
    legacyId: row.legacyId,
    auth0Id: row.auth0Id,
    email: row.email,
    emailVerified: row.emailVerified,
    name: row.name,
    picture: row.picture,
    userMetadata: asObject(row.legacyUserMetadata),
    appMetadata: asObject(row.legacyAppMetadata),
    migratedAt: row.migratedAt,
  };
}
