// The checks on a verified token's header and registered claims, run on every request (also when the signature is cached).
import { InvalidTokenError } from 'express-oauth2-jwt-bearer';
import type { VerifiedSignature } from './verified-token-cache';

export interface RegisteredClaimRules {
  issuer: string;
  audience: string;
  /** Seconds of clock skew allowed on exp, nbf and an iat in the future. */
  clockToleranceS: number;
  /** A token issued longer ago than this is refused whatever its exp; it must carry iat. */
  maxTokenAgeS: number;
}

const optionalString = (value: unknown) => value === undefined || typeof value === 'string';

/**
 * The checks express-oauth2-jwt-bearer made with `clockTolerance` and `maxTokenAge` set, in its
 * words: throws InvalidTokenError (401) naming the first claim that fails.
 */
export function checkRegisteredClaims({ header, payload }: VerifiedSignature, rules: RegisteredClaimRules, now = Math.floor(Date.now() / 1000)): void {
  const { exp, nbf, iat, aud } = payload;
  const tolerance = rules.clockToleranceS;
  const checks: Array<[string, boolean]> = [
    ['alg', header.alg === 'RS256'],
    ['iss', payload.iss === rules.issuer],
    ['aud', typeof aud === 'string' ? aud === rules.audience : Array.isArray(aud) && aud.includes(rules.audience)],
    ['exp', typeof exp === 'number' && exp >= now - tolerance],
    ['nbf', nbf === undefined || (typeof nbf === 'number' && nbf <= now + tolerance)],
    ['iat', typeof iat === 'number' && iat < now + tolerance && iat > now - tolerance - rules.maxTokenAgeS],
    ['sub', optionalString(payload.sub)],
    ['client_id', optionalString(payload.client_id)],
    ['jti', optionalString(payload.jti)],
  ];
  for (const [claim, passed] of checks) {
    if (!passed) throw new InvalidTokenError(`Unexpected '${claim}' value`);
  }
}
