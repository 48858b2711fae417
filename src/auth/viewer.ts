// Who is calling: a machine client (client-credentials token) or an end user, never null.
import { forbidden } from '../errors';

export interface TokenClaims {
  sub?: string;
  gty?: string | string[];
  azp?: string;
  scope?: string;
  [claim: string]: unknown;
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
    this.clientId = claims.azp ?? (claims.sub ?? '').replace(/@clients$/, '');
  }
}

export class UserViewer extends BaseViewer {
  readonly kind = 'user' as const;
  /** The Auth0 user id, e.g. `google-oauth2|1098...`. */
  readonly auth0Id: string;

  constructor(claims: TokenClaims & { sub: string }) {
    super(claims);
    this.auth0Id = claims.sub;
  }
}

/** Auth0 marks machine-to-machine tokens with `gty: "client-credentials"`. */
export function viewerFromClaims(claims: TokenClaims): Viewer {
  const grants = Array.isArray(claims.gty) ? claims.gty : [claims.gty];
  if (grants.includes('client-credentials')) return new MachineViewer(claims);
  if (typeof claims.sub !== 'string' || claims.sub === '') return new MachineViewer(claims);
  return new UserViewer({ ...claims, sub: claims.sub });
}
