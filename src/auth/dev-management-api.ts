// Development without a tenant: this server also plays the Management API's users endpoints, over the simulated tenant's users.
import express, { type Router } from 'express';
import type { Config } from '../config';
import { managementUsersEndpoints } from '../action-runtime/management-users-endpoints';
import { tenantFileUsersStore } from '../action-runtime/simulated-tenant';
import type { DevIssuer } from './dev-issuer';

type WriteBack = NonNullable<Config['writeBack']>;

/** The audience the write-back asks its token for, as with Auth0: https://<domain>/api/v2/. */
export function devManagementAudience(config: Config): string | undefined {
  return config.writeBack?.devTenantFile ? `https://${config.writeBack.management.domain}/api/v2/` : undefined;
}

/**
 * The config the services see: a dev-tenant write-back gets the dev issuer's client as its
 * Management API credentials; without the dev issuer (an app built by hand) write-back is off.
 */
export function withDevTenantCredentials(config: Config, devIssuer: Pick<DevIssuer, 'client'> | undefined): Config {
  const { writeBack } = config;
  if (!writeBack?.devTenantFile) return config;
  if (!devIssuer) return { ...config, writeBack: undefined };
  return { ...config, writeBack: { ...writeBack, management: { ...writeBack.management, clientId: devIssuer.client.id, clientSecret: devIssuer.client.secret } } };
}

/** /api/v2/users/:id (GET, PATCH, DELETE), for tokens the dev issuer granted for the Management API audience. */
export function devManagementApi(devIssuer: DevIssuer, writeBack: WriteBack & { devTenantFile: string }): Router {
  const audience = `https://${writeBack.management.domain}/api/v2/`;
  const router = express.Router();
  router.use(async (req, res, next) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    // Auth0's answer to a missing or foreign token.
    if (!token || !(await devIssuer.verify(token, audience))) return void res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Invalid token' });
    next();
  });
  // The simulated tenant of this server's own issuer: the one login:simulate signs users into.
  router.use(managementUsersEndpoints(tenantFileUsersStore({ path: writeBack.devTenantFile, issuer: devIssuer.issuer })));
  return router;
}
