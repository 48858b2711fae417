// What a login attempt without a usable hash (unknown or migrated email) is verified against: the hash
// of a real waiting legacy user, drawn from a small sample of the store, so it costs what a known email costs.
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { PrismaClient } from '../../db/prisma';
import { dummyHash, parseLegacyHash, type LegacyHash } from './password-hashes';

export interface DecoyOptions {
  /** How many waiting users' hashes are kept: enough to follow the store's mix of families and costs. */
  sampleSize: number;
  /** How old the sample may get before the next attempt refreshes it (in the background). */
  refreshMs: number;
  now?: () => number;
}

export const DEFAULT_DECOY_OPTIONS: DecoyOptions = { sampleSize: 64, refreshMs: 5 * 60 * 1000 };

/** About how many rows of `users` the block sample reads. */
const ROWS_READ = 20_000;

/**
 * A fixed bcrypt dummy costs what one family at one cost costs: against a store of bcrypt 12 or
 * PBKDF2 600k users it answers an unknown email several times faster than a known one, and a
 * password over 72 bytes (refused at once against bcrypt) tens of times faster. Verifying against
 * a random waiting user's hash instead follows the store's own mix, and applies the 72-byte rule
 * exactly as it would for that user. The result is always discarded by the caller. The bcrypt
 * dummy remains for a store where nobody waits.
 */
export class DecoyHashes {
  private sample: LegacyHash[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly options: DecoyOptions = DEFAULT_DECOY_OPTIONS,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * A hash to verify a doomed attempt against. A stale sample is refreshed in the background; only
   * while there is none (first attempt, or nobody waited last time) does the attempt wait for it.
   */
  async pick(): Promise<LegacyHash> {
    if (this.now() - this.loadedAt >= this.options.refreshMs) {
      const load = this.refresh();
      if (this.sample.length === 0) await load;
    }
    return this.sample.length > 0 ? this.sample[randomInt(this.sample.length)]! : dummyHash();
  }

  /** One query at a time; a failed one keeps the previous sample and is retried by the next attempt. */
  private refresh(): Promise<void> {
    this.loading ??= this.load()
      .catch((error: unknown) => {
        // Only the error's class: a driver's message could quote a row.
        this.logger.error({ error: error instanceof Error ? error.name : typeof error }, 'could not sample waiting legacy users for unknown-email checks; keeping the previous sample');
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async load(): Promise<void> {
    // Random blocks holding about ROWS_READ rows first (30-60 ms at a million users, where a full
    // ORDER BY random() took 1.2 s); the full query only when they hold too few waiting users
    // (a small store, or the end of a migration, when few wait).
    let hashes = await this.waitingHashes(`TABLESAMPLE SYSTEM (LEAST(100, 100 * ${ROWS_READ}::float8 / GREATEST((SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass), 1)))`);
    if (hashes.length < this.options.sampleSize) hashes = await this.waitingHashes('');
    // Unreadable hashes are logged where their user logs in; here they are simply not used.
    this.sample = hashes.map((encoded) => parseLegacyHash(encoded)).filter((hash): hash is LegacyHash => typeof hash !== 'string');
    this.loadedAt = this.now();
  }

  private async waitingHashes(sampling: string): Promise<string[]> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ passwordHash: string }>>(
      `SELECT password_hash AS "passwordHash" FROM users ${sampling}
       WHERE legacy_id IS NOT NULL AND migrated_at IS NULL AND deleted_at IS NULL AND password_hash IS NOT NULL
       ORDER BY random() LIMIT $1`,
      this.options.sampleSize,
    );
    return rows.map((row) => row.passwordHash);
  }
}
