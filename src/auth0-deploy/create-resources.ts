// Creates what the Action needs in a tenant, each only if missing: the API, the M2M application and its grant.
import type { ManagementClient } from 'auth0';
import { API_SCOPES } from '../auth/api-scopes';

export interface CreatedResources {
  audience: string;
  clientId: string;
  /** Known only when the application was created by this run. */
  clientSecret?: string;
  created: string[];
}

export async function createResources(management: ManagementClient, options: { audience: string; appName: string; say(line: string): void }): Promise<CreatedResources> {
  const { audience, appName, say } = options;
  const created: string[] = [];

  const apis = await management.resourceServers.list({ identifiers: [audience] });
  if (apis.data.some((api) => api.identifier === audience)) {
    say(`API ${audience} exists`);
  } else {
    await management.resourceServers.create({ name: 'auth0-postgres-sync API', identifier: audience, signing_alg: 'RS256', scopes: API_SCOPES });
    created.push('api');
    say(`created API ${audience} with scopes ${API_SCOPES.map((scope) => scope.value).join(', ')}`);
  }

  const clients = await management.clients.list({ app_type: 'non_interactive', fields: 'client_id,name', include_fields: true });
  let clientId = clients.data.find((client) => client.name === appName)?.client_id;
  let clientSecret: string | undefined;
  if (clientId) {
    say(`M2M application "${appName}" exists (${clientId})`);
  } else {
    const client = await management.clients.create({ name: appName, app_type: 'non_interactive', grant_types: ['client_credentials'] });
    clientId = client.client_id!;
    clientSecret = client.client_secret;
    created.push('client');
    say(`created M2M application "${appName}" (${clientId})`);
  }

  const grants = await management.clientGrants.list({ client_id: clientId, audience });
  if (grants.data.some((grant) => grant.client_id === clientId && grant.audience === audience)) {
    say('client grant exists');
  } else {
    await management.clientGrants.create({ client_id: clientId, audience, scope: ['create:users', 'migrate:users'] });
    created.push('grant');
    say(`granted the application create:users and migrate:users on ${audience}`);
  }
  return { audience, clientId, clientSecret, created };
}
