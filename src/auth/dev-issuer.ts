// A local stand-in for an Auth0 tenant: an RS256 key, its JWKS, and Auth0's client-credentials /oauth/token.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type KeyLike } from 'jose';
import { createFileOnce } from '../create-file-once';
import { API_SCOPES } from './api-scopes';

/** What the development issuer's /oauth/token grants at most: every scope of the API. */
export const DEV_SCOPES = API_SCOPES.map((scope) => scope.value);
/** What the local Management API (dev-management-api.ts) grants the write-back. */
export const DEV_MANAGEMENT_SCOPES = ['read:users', 'update:users', 'delete:users'];
const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export interface DevIssuerState {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  client: { id: string; secret: string };
}

export interface DevIssuer {
  issuer: string;
  audience: string;
  client: { id: string; secret: string };
  jwks: { keys: JWK[] };
  router: Router;
  /** Signs an access token shaped like Auth0's. */
  sign(claims: TokenRequest): Promise<string>;
  /** True when `token` is one of this issuer's, unexpired, for `audience`. */
  verify(token: string, audience: string): Promise<boolean>;
}

export type TokenRequest =
  | { kind: 'machine'; clientId?: string; scopes: string[]; expiresInSeconds?: number; audience?: string }
  | { kind: 'user'; sub: string; scopes?: string[]; extraClaims?: Record<string, unknown>; expiresInSeconds?: number };

/**
 * Loads the issuer's key and dev client from `dir`, creating them on first use. Processes starting
 * together on an empty `dir` all end up with the same identity: the first file created wins.
 */
export async function loadOrCreateDevIssuerState(dir: string): Promise<DevIssuerState> {
  const file = path.join(dir, 'issuer.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as DevIssuerState;
  const state = await createDevIssuerState();
  return JSON.parse(createFileOnce(file, JSON.stringify(state)).content) as DevIssuerState;
}

export async function createDevIssuerState(): Promise<DevIssuerState> {
  const kid = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    client: { id: `dev-${randomBytes(8).toString('hex')}`, secret: randomBytes(24).toString('base64url') },
  };
}

export async function createDevIssuer(options: { issuer: string; audience: string; state: DevIssuerState; managementAudience?: string }): Promise<DevIssuer> {
  const { issuer, audience, state, managementAudience } = options;
  const privateKey = (await importJWK(state.privateJwk, 'RS256')) as KeyLike;
  const jwks = { keys: [state.publicJwk] };

  const sign = (request: TokenRequest): Promise<string> => {
    const claims: Record<string, unknown> =
      request.kind === 'machine'
        ? { gty: 'client-credentials', azp: request.clientId ?? state.client.id, scope: request.scopes.join(' ') }
        : { azp: state.client.id, scope: ['openid', 'profile', 'email', ...(request.scopes ?? [])].join(' '), ...request.extraClaims };
    const subject = request.kind === 'machine' ? `${request.clientId ?? state.client.id}@clients` : request.sub;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: state.kid })
      .setIssuer(issuer)
      .setAudience(request.kind === 'machine' && request.audience ? request.audience : audience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(`${request.expiresInSeconds ?? TOKEN_LIFETIME_SECONDS}s`)
      .sign(privateKey);
  };

  const router = express.Router();
  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('cache-control', 'public, max-age=600').json(jwks);
  });
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({
      issuer,
      jwks_uri: new URL('.well-known/jwks.json', issuer).toString(),
      token_endpoint: new URL('oauth/token', issuer).toString(),
      grant_types_supported: ['client_credentials'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });
  router.post('/oauth/token', express.json({ limit: '16kb' }), express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'client_credentials') {
      res.status(400).json({ error: 'unsupported_grant_type', error_description: 'Only client_credentials is supported here.' });
      return;
    }
    if (!sameSecret(body.client_id, state.client.id) || !sameSecret(body.client_secret, state.client.secret)) {
      res.status(401).json({ error: 'access_denied', error_description: 'Unauthorized' });
      return;
    }
    if (managementAudience !== undefined && body.audience === managementAudience) {
      // The local Management API's audience (https://<domain>/api/v2/, as Auth0's): the write-back's token.
      const accessToken = await sign({ kind: 'machine', scopes: DEV_MANAGEMENT_SCOPES, audience: managementAudience });
      res.set('cache-control', 'no-store').json({ access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS, scope: DEV_MANAGEMENT_SCOPES.join(' ') });
      return;
    }
    if (body.audience !== audience) {
      res.status(403).json({ error: 'access_denied', error_description: `Service not found: ${String(body.audience)}` });
      return;
    }
    const requested = typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : DEV_SCOPES;
    const scopes = requested.filter((scope) => DEV_SCOPES.includes(scope));
    const accessToken = await sign({ kind: 'machine', scopes });
    res.set('cache-control', 'no-store').json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope: scopes.join(' '),
    });
  });

  const keys = createLocalJWKSet(jwks);
  const verify = (token: string, wanted: string) =>
    jwtVerify(token, keys, { issuer, audience: wanted, algorithms: ['RS256'] }).then(
      () => true,
      () => false,
    );

  return { issuer, audience, client: state.client, jwks, router, sign, verify };
}

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
