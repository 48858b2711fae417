// Who is calling: a machine client (client-credentials token) or an end user, never null.
import { InvalidTokenError } from 'express-oauth2-jwt-bearer';
import { z } from 'zod';
import { forbidden } from '../errors';

/** The claims this API reads, as Auth0 writes them; `parseTokenClaims` guarantees these types. */
export interface TokenClaims {
  sub: string;
  gty?: string | string[];
  azp?: string;
  scope?: string;
  permissions?: string[];
  [claim: string]: unknown;
}

// Bounds far above anything Auth0 issues (user ids are at most 255 characters), so that a claim of
// absurd size is refused like one of the wrong type.
const text = (max: number) => z.string().min(1).max(max);
const identifier = text(255);

/**
 * Checks the claims this API reads, once, after the signature and the time claims: `sub`, `gty`,
 * `azp`, `scope`, `permissions` (Auth0 RBAC) and the Post Login Action's `<namespace>email` and
 * `<namespace>email_verified`. A claim present with another type, empty (but `scope`) or overlong refuses the
 * token (401 invalid_token), so that no code further on meets a `scope` that is an array.
 */
export function tokenClaimsParser(claimsNamespace: string): (payload: unknown) => TokenClaims {
  const schema = z.looseObject({
    sub: identifier,
    gty: z.union([identifier, z.array(identifier).min(1).max(10)]).optional(),
    azp: identifier.optional(),
    // Space-separated; empty means no scopes, as in a token of a client granted none.
    scope: z.string().max(8192).optional(),
    permissions: z.array(identifier).max(1000).optional(),
    [`${claimsNamespace}email`]: text(320).optional(),
    [`${claimsNamespace}email_verified`]: z.boolean().optional(),
  });
  return (payload) => {
    const parsed = schema.safeParse(payload);
    if (parsed.success) return parsed.data as TokenClaims;
    const claim = parsed.error.issues[0]?.path[0];
    throw new InvalidTokenError(claim === undefined ? 'The token has no claims.' : `The token's '${String(claim)}' claim is missing, empty, too long or of the wrong type.`);
  };
}

export type Viewer = MachineViewer | UserViewer;

abstract class BaseViewer {
  readonly scopes: ReadonlySet<string>;

  constructor(readonly claims: TokenClaims) {
    this.scopes = new Set((claims.scope ?? '').split(' ').filter(Boolean));
  }

  /** Throws FORBIDDEN unless this is a machine client granted `scope`. */
  requireScope(scope: string): MachineViewer {
    if (!(this instanceof MachineViewer)) throw forbidden(`This operation needs a machine-to-machine token with the scope "${scope}".`);
    if (!this.scopes.has(scope)) throw forbidden(`This token lacks the scope "${scope}".`);
    return this;
  }

  /** Throws FORBIDDEN unless this is an end user's token. */
  requireUser(): UserViewer {
    if (!(this instanceof UserViewer)) throw forbidden('This operation needs an end user\'s access token.');
    return this;
  }
}

export class MachineViewer extends BaseViewer {
  readonly kind = 'machine' as const;
  /** The Auth0 application's client id (`azp`, or the `sub` before its `@clients` suffix). */
  readonly clientId: string;

  constructor(claims: TokenClaims) {
    super(claims);
    this.clientId = claims.azp ?? claims.sub.replace(/@clients$/, '');
  }
}

export class UserViewer extends BaseViewer {
  readonly kind = 'user' as const;
  /** The Auth0 user id, e.g. `google-oauth2|1098...`. */
  readonly auth0Id: string;

  constructor(claims: TokenClaims) {
    super(claims);
    this.auth0Id = claims.sub;
  }
}

/** Auth0 marks machine-to-machine tokens with `gty: "client-credentials"`; anything else is an end user. */
export function viewerFromClaims(claims: TokenClaims): Viewer {
  const grants = Array.isArray(claims.gty) ? claims.gty : [claims.gty];
  if (grants.includes('client-credentials')) return new MachineViewer(claims);
  return new UserViewer(claims);
}
