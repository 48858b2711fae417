// Verifies an access token: its RS256 signature against the issuer's JWKS (remembered per token), then its claims.
import { compactVerify, createRemoteJWKSet, type JWTPayload } from 'jose';
import { InvalidTokenError, UnauthorizedError } from 'express-oauth2-jwt-bearer';
import type { Config } from '../config';
import { isCanonicalCompactJws } from './canonical-base64url';
import { checkRegisteredClaims } from './registered-claims';
import { cacheVerifiedSignatures, type VerifiedSignature } from './verified-token-cache';

export interface VerifiedToken extends VerifiedSignature {
  token: string;
}

const JWKS_TIMEOUT_MS = 5000;
const decoder = new TextDecoder();

export function createTokenVerifier(config: Config['auth']): (token: string) => Promise<VerifiedToken> {
  // Known keys keep verifying from the cache while the JWKS is unreachable; an unknown key id
  // (rotation) refetches it, at most once per cooldown.
  const jwks = createRemoteJWKSet(new URL(config.jwksUri), {
    cacheMaxAge: config.jwksCacheMaxAgeMs,
    cooldownDuration: config.jwksCooldownMs,
    timeoutDuration: JWKS_TIMEOUT_MS,
  });
  const verifySignature = cacheVerifiedSignatures(
    async (token) => {
      const { payload, protectedHeader } = await compactVerify(token, jwks, { algorithms: ['RS256'] });
      if (protectedHeader.b64 === false) throw new InvalidTokenError('JWTs must not use an unencoded payload');
      return { header: protectedHeader, payload: parsePayload(payload) };
    },
    { maxEntries: config.verifiedTokenCacheEntries, maxAgeMs: config.jwksCacheMaxAgeMs },
  );
  const rules = { issuer: config.issuer, audience: config.audience, clockToleranceS: config.clockToleranceS, maxTokenAgeS: config.maxTokenAgeS };

  return async (token) => {
    // Before the cache: another spelling of a cached token must not become an entry of its own.
    if (!isCanonicalCompactJws(token)) throw new InvalidTokenError('The token must be a compact JWS of three unpadded base64url segments (RFC 7515)');
    let verified: VerifiedSignature;
    try {
      verified = await verifySignature(token);
    } catch (error) {
      // jose's errors (malformed, bad signature, unknown key, JWKS unreachable) are all a 401.
      throw error instanceof UnauthorizedError ? error : new InvalidTokenError(error instanceof Error ? error.message : 'Invalid Token');
    }
    checkRegisteredClaims(verified, rules);
    return { ...verified, token };
  };
}

function parsePayload(bytes: Uint8Array): JWTPayload {
  let payload: unknown;
  try {
    payload = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new InvalidTokenError('JWT Claims Set must be a JSON object');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new InvalidTokenError('JWT Claims Set must be a JSON object');
  return payload as JWTPayload;
}
