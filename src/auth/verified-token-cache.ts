// Remembers tokens whose signature verified, by a hash of the token, until they expire: one RS256 check per token.
import { createHash } from 'node:crypto';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';

export interface VerifiedSignature {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
}

export type SignatureVerifier = (token: string) => Promise<VerifiedSignature>;

export interface VerifiedTokenCacheOptions {
  /** At most this many tokens are remembered; the least recently used goes first. 0 turns the cache off. */
  maxEntries: number;
  /** No entry outlives this, even with a later `exp` (the JWKS cache's own trust in a key). */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * Wraps the signature verification only: whatever checks the caller runs on the claims still run
 * on every request, cached or not. A failure is never remembered, so a bad token is verified (and
 * refused) every time, and the map holds hashes, never a token.
 */
export function cacheVerifiedSignatures(verify: SignatureVerifier, { maxEntries, maxAgeMs, now = Date.now }: VerifiedTokenCacheOptions): SignatureVerifier {
  if (maxEntries <= 0) return verify;
  const entries = new Map<string, { verified: VerifiedSignature; expiresAt: number }>();
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = entries.get(key);
    if (cached) {
      entries.delete(key);
      if (cached.expiresAt > now()) {
        entries.set(key, cached);
        return cached.verified;
      }
    }
    const verified = await verify(token);
    const { exp } = verified.payload;
    if (typeof exp === 'number') {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { verified: freeze(verified), expiresAt: Math.min(exp * 1000, now() + maxAgeMs) });
    }
    return verified;
  };
}

// Shared by every request that carries the token: nobody may change it.
function freeze(verified: VerifiedSignature): VerifiedSignature {
  const deepFreeze = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  };
  deepFreeze(verified);
  return verified;
}
