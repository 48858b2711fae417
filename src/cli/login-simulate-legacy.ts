// login:simulate through the custom database connection: Auth0's store, the Login script, the user's creation, the Post Login Action, the linked row.
import path from 'node:path';
import { loginThroughCustomDb } from '../action-runtime/custom-db-login';
import { newContainer } from '../action-runtime/run-custom-db-script';
import { runPostLogin, type HttpCall } from '../action-runtime/run-post-login';
import type { SimulatedTenant } from '../action-runtime/simulated-tenant';
import { createDevIssuer, type DevIssuerState } from '../auth/dev-issuer';
import type { Config } from '../config';

export interface SimulateCustomDbLoginOptions {
  root: string;
  config: Config;
  issuer: DevIssuerState;
  /** The running dev server's issuer (where the scripts and the Action get their token). */
  issuerUrl: string;
  tenant: SimulatedTenant;
  apiUrl: string;
  connection: string;
  email: string;
  password: string;
  out(line: string): void;
}

/** Returns whether the login succeeded. */
export async function simulateCustomDbLogin(options: SimulateCustomDbLoginOptions): Promise<boolean> {
  const { config, issuer, tenant, apiUrl, out } = options;
  const credentials = { AUTH0_DOMAIN: options.issuerUrl, CLIENT_ID: issuer.client.id, CLIENT_SECRET: issuer.client.secret, API_AUDIENCE: config.auth.audience, API_URL: apiUrl };
  out(`Simulated login of ${options.email} via ${options.connection} (custom database, Import Users to Auth0 on)`);
  const outcome = await loginThroughCustomDb({
    tenant,
    connection: {
      name: options.connection,
      loginScript: path.join(options.root, 'actions/custom-db/login.js'),
      getUserScript: path.join(options.root, 'actions/custom-db/get-user.js'),
      configuration: credentials,
      container: newContainer(),
    },
    email: options.email,
    password: options.password,
  });
  if (outcome.kind === 'existing') {
    out(`  Auth0's store: ${outcome.user.user_id} is already an Auth0 user; Auth0 checked the password itself, the Login script was not called`);
  } else {
    out(`  Auth0's store: no ${options.connection} user with this email, so Auth0 runs actions/custom-db/login.js`);
    for (const call of outcome.script?.httpCalls ?? []) out(`  Login script: ${call.method} ${call.url} -> ${describeCall(call)}`);
  }
  if (outcome.kind === 'wrong-password') {
    out('  login FAILED: wrong email or password (WrongUsernameOrPasswordError)');
    return false;
  }
  if (outcome.kind === 'failed') {
    out(`  login FAILED: ${outcome.reason}`);
    if (outcome.script?.httpCalls.some((call) => call.status === 'failed')) out('  (is the server running? start it with npm start)');
    return false;
  }
  if (outcome.kind === 'migrated') out(`  Auth0 created ${outcome.user.user_id} with this password and the script's profile (user_metadata, app_metadata)`);

  const result = await runPostLogin({
    tenant,
    actionFile: path.join(options.root, 'actions/post-login.js'),
    secrets: { ...credentials, FAIL_CLOSED: 'false', CLAIMS_NAMESPACE: config.auth.claimsNamespace, LEGACY_CONNECTION: options.connection },
    user: { ...outcome.user },
  });
  out(`  Post Login Action (login #${result.event.stats.logins_count}): ${result.httpCalls.length === 0 ? 'no call (already provisioned)' : result.httpCalls.map(describeActionCall).join(', ')}`);
  for (const line of result.logs) out(`  Action log: ${line}`);
  await describeLinkedRow(options, outcome.user.user_id);
  return result.denied === undefined;
}

async function describeLinkedRow(options: SimulateCustomDbLoginOptions, auth0Id: string): Promise<void> {
  const dev = await createDevIssuer({ issuer: options.issuerUrl, audience: options.config.auth.audience, state: options.issuer });
  const token = await dev.sign({ kind: 'machine', scopes: ['read:users', 'read:transactions', 'migrate:users'] });
  const response = await fetch(options.apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'query ($id: String!) { user(auth0Id: $id) { id connection transactionSummary { currency count } } legacyUserByAuth0Id(auth0Id: $id) { legacyId migratedAt } }',
      variables: { id: auth0Id },
    }),
  });
  const body = (await response.json()) as { data?: { user: { id: string; connection: string | null; transactionSummary: Array<{ currency: string; count: number }> } | null; legacyUserByAuth0Id: { legacyId: string; migratedAt: string | null } | null } };
  const user = body.data?.user;
  if (!user) return options.out(`  our database: no row for ${auth0Id} (HTTP ${response.status})`);
  const legacy = body.data?.legacyUserByAuth0Id;
  const transactions = user.transactionSummary.map((summary) => `${summary.count} ${summary.currency}`).join(', ') || 'none';
  options.out(`  our database: row ${user.id} is ${auth0Id}${legacy ? ` (legacy id ${legacy.legacyId}), ${legacy.migratedAt ? `linked at ${legacy.migratedAt}, legacy hash erased` : 'NOT linked yet'}` : ''}; transactions: ${transactions}`);
}

function describeCall(call: HttpCall): string {
  return call.status === 'failed' ? `failed after ${call.durationMs} ms` : `HTTP ${call.status} in ${call.durationMs} ms`;
}

function describeActionCall(call: HttpCall): string {
  return `${call.url.endsWith('/oauth/token') ? 'M2M token' : 'API'} ${describeCall(call)}`;
}
