// The Auth0 Management API client (the official `auth0` SDK) from the environment, and plain messages for its errors.
import { ManagementClient, ManagementError } from 'auth0';

export const MANAGEMENT_ENV = ['AUTH0_DOMAIN', 'AUTH0_MGMT_CLIENT_ID', 'AUTH0_MGMT_CLIENT_SECRET'] as const;

/**
 * A client with the Management API M2M application's credentials. AUTH0_MANAGEMENT_ORIGIN (for
 * local stand-ins only) sends the SDK's requests for https://AUTH0_DOMAIN to another origin.
 */
export function createManagementClient(env: NodeJS.ProcessEnv): ManagementClient {
  const missing = MANAGEMENT_ENV.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`Set ${missing.join(', ')}: a Machine to Machine application authorized for the Auth0 Management API.`);
  const domain = env.AUTH0_DOMAIN!;
  const origin = env.AUTH0_MANAGEMENT_ORIGIN;
  return new ManagementClient({
    domain,
    clientId: env.AUTH0_MGMT_CLIENT_ID!,
    clientSecret: env.AUTH0_MGMT_CLIENT_SECRET!,
    maxRetries: 2,
    fetch: origin ? (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(`https://${domain}`, origin.replace(/\/$/, '')), init) : undefined,
  });
}

/** One line that says what went wrong and what to do, without secrets or a stack trace. */
export function describeManagementError(error: unknown): string {
  if (error instanceof ManagementError) {
    const status = error.statusCode;
    const retryAfter = error.rawResponse?.headers.get('retry-after');
    if (status === 401) return 'the Management API refused the credentials (401): check AUTH0_MGMT_CLIENT_ID / AUTH0_MGMT_CLIENT_SECRET and AUTH0_DOMAIN.';
    if (status === 403) return 'the Management API application lacks a permission (403): grant it create:actions, read:actions, update:actions (and create:resource_servers, create:clients, create:client_grants for --create-resources).';
    if (status === 429) return `the Management API is rate limiting this tenant (429)${retryAfter ? `; it asks to retry after ${retryAfter} s` : ''}. Run the command again then.`;
    return `the Management API answered ${status ?? 'an error'}: ${error.message.split('\n')[0]}`;
  }
  return error instanceof Error ? error.message : String(error);
}
