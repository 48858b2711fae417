// `npm run login:simulate`: runs the real Post Login Action, as Auth0 would, against the running local server.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simulateCustomDbLogin } from './login-simulate-legacy';
import { runPostLogin, type HttpCall } from '../action-runtime/run-post-login';
import { SimulatedTenant } from '../action-runtime/simulated-tenant';
import { loadOrCreateDevIssuerState } from '../auth/dev-issuer';
import { findRunningDevServers, localTarget } from '../auth/running-dev-server';
import { loadConfig } from '../config';

const ROOT = path.resolve(__dirname, '../..');
const FLAG = 'postgres_sync_provisioned';

const USAGE = `Usage: npm run login:simulate -- --email hedy@example.com [options]
  --connection <name>   google-oauth2 (default), Username-Password-Authentication, github...,
                        or legacy-db: the custom database connection of the automatic migration
  --email <address>     the person signing in (omit with --user-id for a connection without email)
  --password <text>     with --connection legacy-db: the password typed (npm run legacy:seed prints some)
  --name <name>         their display name
  --user-id <id>        the Auth0 user id (default: derived from the connection and email)
  --refresh             a refresh-token exchange instead of a login
  --fail-closed         set the Action's FAIL_CLOSED secret to true
  --api-url <url>       the GraphQL endpoint (default: the running server's, which npm start publishes)
  --state <file>        where the simulated tenants keep their users and cache, one tenant per
                        issuer (default: SIMULATED_TENANT_FILE, .data/simulated-tenant.json)
Start the server first (npm start); this uses its local development issuer.
Exits 1 when the Action could not provision the user.`;

async function simulateLogin(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connection: { type: 'string', default: 'google-oauth2' },
      email: { type: 'string' },
      name: { type: 'string' },
      'user-id': { type: 'string' },
      refresh: { type: 'boolean' },
      'fail-closed': { type: 'boolean' },
      password: { type: 'string' },
      'legacy-connection': { type: 'string', default: process.env.LEGACY_CONNECTION ?? 'legacy-db' },
      'api-url': { type: 'string' },
      state: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.email && !values['user-id'])) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const config = loadConfig();
  if (config.auth.mode !== 'dev') throw new Error('login:simulate uses the local development issuer: unset AUTH0_DOMAIN / AUTH0_ISSUER_BASE_URL.');
  const issuer = await loadOrCreateDevIssuerState(config.auth.devIssuerDir);
  const connection = values.connection;
  const userId = values['user-id'] ?? `${connection === 'Username-Password-Authentication' ? 'auth0' : connection}|${createHash('sha256').update(`${connection}:${values.email}`).digest('hex').slice(0, 24)}`;
  const target = localTarget(config);
  // One simulated tenant per issuer, as in Auth0: a server on another port gets its own users and Action cache.
  // The same file the local server's Management API changes (SIMULATED_TENANT_FILE), unless --state says otherwise.
  const tenant = new SimulatedTenant({ path: values.state ? path.resolve(ROOT, values.state) : config.auth.simulatedTenantFile, issuer: target.issuer });
  if (!target.running && !values['api-url']) {
    // PORT named a port where none runs, while others do: name them, rather than say none runs.
    const elsewhere = findRunningDevServers(config.auth.devIssuerDir).map((server) => server.port);
    const where = path.relative(process.cwd(), config.auth.devIssuerDir) || config.auth.devIssuerDir;
    throw new Error(
      elsewhere.length > 0
        ? `No local server is running on port ${config.http.port} for ${where}; servers run on port ${elsewhere.join(', ')}: set PORT to one of them, or unset it.`
        : `No local server is running for ${where}: start it with npm start (in another terminal, with the same DEV_ISSUER_DIR), or pass --api-url.`,
    );
  }
  const apiUrl = values['api-url'] ?? target.graphqlUrl;
  if (connection === values['legacy-connection']) {
    if (!values.email || values.password === undefined) throw new Error(`--connection ${connection} needs --email and --password (npm run legacy:seed prints some)`);
    const ok = await simulateCustomDbLogin({ root: ROOT, config, issuer, issuerUrl: target.issuer, tenant, apiUrl, connection, email: values.email, password: values.password, out: (line) => process.stdout.write(`${line}\n`) });
    if (!ok) process.exitCode = 1;
    return;
  }

  const result = await runPostLogin({
    tenant,
    actionFile: path.join(ROOT, 'actions/post-login.js'),
    secrets: {
      AUTH0_DOMAIN: target.issuer,
      CLIENT_ID: issuer.client.id,
      CLIENT_SECRET: issuer.client.secret,
      API_AUDIENCE: config.auth.audience,
      API_URL: apiUrl,
      FAIL_CLOSED: values['fail-closed'] ? 'true' : 'false',
      CLAIMS_NAMESPACE: config.auth.claimsNamespace,
    },
    user: { user_id: userId, connection, email: values.email, email_verified: connection !== 'Username-Password-Authentication', name: values.name },
    protocol: values.refresh ? 'oauth2-refresh-token' : undefined,
  });

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const kind = values.refresh ? 'refresh-token exchange' : `login #${result.event.stats.logins_count}`;
  out(`Simulated ${kind} of ${userId}${values.email ? ` (${values.email})` : ''} via ${connection}, through actions/post-login.js`);
  const tokenCall = result.httpCalls.find((call) => call.url.endsWith('/oauth/token'));
  const apiCall = result.httpCalls.find((call) => call.url === apiUrl);
  if (result.httpCalls.length === 0) {
    out(values.refresh ? '  refresh-token exchange: the Action made no call' : `  already provisioned (app_metadata.${FLAG} = true): the Action made no call`);
  } else {
    out(`  M2M token: ${tokenCall ? `fetched from ${tokenCall.url} (${describeCall(tokenCall)})` : 'taken from the Action cache (no request)'}`);
    if (apiCall) out(`  addUser: ${describeCall(apiCall)} at ${apiUrl}`);
  }
  for (const line of result.logs) out(`  Action log: ${line}`);
  if (result.appMetadataSet[FLAG] === true) out(`  app_metadata.${FLAG} set to true: later logins make no call`);
  else if (result.httpCalls.length > 0) out(`  app_metadata.${FLAG} not set: the next login will try again`);
  const claims = Object.entries(result.accessTokenClaims).map(([name, value]) => `${name} = ${JSON.stringify(value)}`);
  if (claims.length > 0) out(`  access token claims: ${claims.join(', ')}`);
  out(result.denied ? `  login DENIED: ${result.denied}` : '  login allowed');
  if (apiCall?.status === 'failed') out(`  (is the server running? start it with npm start)`);
  const provisioned = result.httpCalls.length === 0 || result.appMetadataSet[FLAG] === true;
  if (!provisioned) process.exitCode = 1;
  else if (!result.denied) for (const line of seeUserCommands(userId, apiUrl)) out(line);
}

/** The next step of the journey, ready to paste: the user's own token, and the API asked who they are. */
function seeUserCommands(userId: string, apiUrl: string): string[] {
  const body = JSON.stringify({ query: '{ me { id email name connection loginsCount } }' });
  return [
    'See this user over GraphQL, as themselves:',
    `  TOKEN=$(npm run -s token -- --user ${shellQuote(userId)})`,
    `  curl -s ${shellQuote(apiUrl)} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d ${shellQuote(body)}`,
  ];
}

/** One POSIX shell word, whatever it holds (user ids hold `|`). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function describeCall(call: HttpCall): string {
  return call.status === 'failed' ? `failed after ${call.durationMs} ms` : `HTTP ${call.status} in ${call.durationMs} ms`;
}

simulateLogin().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
