/**
 * Auth0 Post Login Action: provisions every user in your own Postgres on their first login.
 *
 * Auth0's post-registration trigger never fires for social sign-ups (Google...), so this runs at
 * login instead: on the first one, and on any later one until a provisioning has succeeded (the
 * flag below in app_metadata), because Auth0 counts a login even when this Action failed.
 *
 * Secrets (Actions > this Action > Secrets):
 *   AUTH0_DOMAIN      your tenant's domain, e.g. your-tenant.eu.auth0.com (the M2M token comes
 *                     from https://AUTH0_DOMAIN/oauth/token; a full http(s):// URL is also accepted)
 *   CLIENT_ID         the machine-to-machine application granted `create:users` on your API
 *   CLIENT_SECRET     its secret
 *   API_AUDIENCE      your API's identifier (the audience of the M2M token)
 *   API_URL           the GraphQL endpoint, e.g. https://your-domain.ngrok.app/graphql
 *   FAIL_CLOSED       "true" to deny the login when provisioning fails (default: let it through)
 *   CLAIMS_NAMESPACE  optional; namespace of the custom claims, default
 *                     https://auth0-postgres-sync.example/ (the API's AUTH0_CLAIMS_NAMESPACE)
 *   LEGACY_CONNECTION optional; the custom database connection of an automatic migration: a user
 *                     of it who arrives without metadata gets it back once from the API (the M2M
 *                     application then also needs `migrate:users`)
 *
 * Plain JavaScript for Auth0's Node 22 runtime: no npm dependencies, no build step.
 */

const PROVISIONED_FLAG = 'postgres_sync_provisioned';
const TOKEN_CACHE_KEY = 'postgres-sync:m2m-token';
const DEFAULT_CLAIMS_NAMESPACE = 'https://auth0-postgres-sync.example/';
// Auth0 gives the whole trigger 20 s; two calls of at most 5 s each leave room for the rest.
const HTTP_TIMEOUT_MS = 5000;
// Refetch the M2M token this long before it expires; the cache keeps entries 24 h at most.
const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;
const CACHE_MAX_TTL_MS = 24 * 60 * 60 * 1000;

const ADD_USER = `mutation AddUser($input: AddUserInput!) {
  addUser(input: $input) { created user { id auth0Id } }
}`;

exports.onExecutePostLogin = async (event, api) => {
  await restoreLegacyMetadata(event, api);
  try {
    addProfileClaims(event, api);
    if (!needsProvisioning(event)) return;
    const result = await provision(event, api);
    api.user.setAppMetadata(PROVISIONED_FLAG, true);
    console.log(`postgres-sync: ${result.created ? 'created' : 'updated'} ${event.user.user_id}`);
  } catch (error) {
    // Never throw: a failure here must not break the login unless FAIL_CLOSED says so.
    console.log(`postgres-sync: provisioning ${event.user.user_id} failed: ${describe(error)}`);
    if (String(event.secrets.FAIL_CLOSED).toLowerCase() === 'true') {
      api.access.deny('We could not finish setting up your account. Please try again in a moment.');
    }
  }
};

// Auth0's migration troubleshooting: a user interrupted mid-migration can arrive without the
// metadata the Login script returned. Asked once per such user; a failure never breaks the login.
const LEGACY_METADATA_FLAG = 'legacy_metadata_checked';
const LEGACY_USER = `query LegacyUserByAuth0Id($auth0Id: String!) {
  legacyUserByAuth0Id(auth0Id: $auth0Id) { userMetadata appMetadata }
}`;

async function restoreLegacyMetadata(event, api) {
  if (!event.secrets.LEGACY_CONNECTION || event.connection.name !== event.secrets.LEGACY_CONNECTION) return;
  const appMetadata = event.user.app_metadata || {};
  const hasMetadata = Object.keys(event.user.user_metadata || {}).length > 0 || Object.keys(appMetadata).some((key) => key !== PROVISIONED_FLAG);
  if (hasMetadata || appMetadata[LEGACY_METADATA_FLAG] === true) return;
  try {
    const token = await machineToken(event, api);
    const response = await post(event.secrets.API_URL, { query: LEGACY_USER, variables: { auth0Id: event.user.user_id } }, { authorization: `Bearer ${token}` });
    const body = await readJson(response);
    if (!response.ok || !body || body.errors || !body.data) throw new Error(`legacyUserByAuth0Id answered HTTP ${response.status}`);
    const legacy = body.data.legacyUserByAuth0Id;
    if (legacy) {
      for (const [name, value] of Object.entries(legacy.userMetadata)) api.user.setUserMetadata(name, value);
      for (const [name, value] of Object.entries(legacy.appMetadata)) api.user.setAppMetadata(name, value);
    }
    api.user.setAppMetadata(LEGACY_METADATA_FLAG, true);
    console.log(`postgres-sync: ${legacy ? 'restored the legacy metadata of' : 'no legacy metadata for'} ${event.user.user_id}`);
  } catch (error) {
    console.log(`postgres-sync: restoring the legacy metadata of ${event.user.user_id} failed: ${describe(error)}`);
  }
}

/** The API can provision from a token alone when it carries the email. */
function addProfileClaims(event, api) {
  const namespace = event.secrets.CLAIMS_NAMESPACE || DEFAULT_CLAIMS_NAMESPACE;
  if (event.user.email) api.accessToken.setCustomClaim(`${namespace}email`, event.user.email);
  api.accessToken.setCustomClaim(`${namespace}email_verified`, event.user.email_verified === true);
}

function needsProvisioning(event) {
  if (event.transaction && event.transaction.protocol === 'oauth2-refresh-token') return false;
  const provisioned = Boolean(event.user.app_metadata && event.user.app_metadata[PROVISIONED_FLAG] === true);
  return event.stats.logins_count === 1 || !provisioned;
}

async function provision(event, api) {
  warnAboutPlainHttp(event.secrets);
  const token = await machineToken(event, api);
  const user = event.user;
  const input = {
    auth0Id: user.user_id,
    email: user.email || undefined,
    emailVerified: user.email_verified === true,
    name: user.name || undefined,
    picture: user.picture || undefined,
    connection: event.connection.name,
    loginsCount: event.stats.logins_count,
    lastLoginAt: new Date().toISOString(),
  };
  // Variables, never string interpolation: the user's data cannot change the query.
  const response = await post(event.secrets.API_URL, { query: ADD_USER, variables: { input } }, { authorization: `Bearer ${token}` });
  if (response.status === 401) api.cache.delete(TOKEN_CACHE_KEY);
  const body = await readJson(response);
  if (!response.ok || !body || body.errors || !body.data || !body.data.addUser) {
    const code = body && body.errors && body.errors[0] && body.errors[0].extensions ? body.errors[0].extensions.code : undefined;
    throw new Error(`addUser answered HTTP ${response.status}${code ? ` ${code}` : ''}`);
  }
  return body.data.addUser;
}

/**
 * A client-credentials token, kept in api.cache until shortly before it expires. Auth0's cache is
 * best effort: an entry "may not be available in later transactions" even within its lifetime, and
 * a write can fail, so a burst of logins usually shares one token but may fetch several.
 */
async function machineToken(event, api) {
  const cached = api.cache.get(TOKEN_CACHE_KEY);
  if (cached && typeof cached.value === 'string') {
    const { accessToken, expiresAt } = JSON.parse(cached.value);
    if (Date.now() < expiresAt - TOKEN_EXPIRY_MARGIN_MS) return accessToken;
  }
  const { AUTH0_DOMAIN, CLIENT_ID, CLIENT_SECRET, API_AUDIENCE } = event.secrets;
  const response = await post(tokenEndpoint(AUTH0_DOMAIN), {
    grant_type: 'client_credentials',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    audience: API_AUDIENCE,
  });
  const body = await readJson(response);
  if (!response.ok || !body || typeof body.access_token !== 'string') {
    throw new Error(`the token endpoint answered HTTP ${response.status}${body && body.error ? ` ${body.error}` : ''}`);
  }
  const lifetimeMs = Number(body.expires_in) * 1000;
  const expiresAt = Date.now() + lifetimeMs;
  const ttl = Math.min(lifetimeMs - TOKEN_EXPIRY_MARGIN_MS, CACHE_MAX_TTL_MS);
  if (ttl > 0) {
    // api.cache.set answers a CacheWriteResult: { type: 'success' } or { type: 'error', code }.
    const result = api.cache.set(TOKEN_CACHE_KEY, JSON.stringify({ accessToken: body.access_token, expiresAt }), { ttl });
    if (!result || result.type !== 'success') {
      console.log(`postgres-sync: the M2M token could not be cached (${(result && result.code) || 'no result'}); the next login fetches a new one`);
    }
  }
  return body.access_token;
}

// Over plain http:// the M2M token and the user's profile cross the network in clear. Loopback is
// exempt: nothing leaves the machine (local simulation), and Auth0 could never reach it anyway.
function warnAboutPlainHttp(secrets) {
  for (const name of ['API_URL', 'AUTH0_DOMAIN']) {
    const value = String(secrets[name] || '');
    if (!/^http:\/\//i.test(value)) continue;
    let host = '';
    try {
      host = new URL(value).hostname;
    } catch {
      // An unparsable URL fails the call itself, with its own log line.
    }
    if (/^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(host)) continue;
    console.log(`postgres-sync: warning: ${name} is plain http://, so tokens and profiles travel unencrypted; use https://`);
  }
}

function tokenEndpoint(domain) {
  const base = /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
  return new URL('/oauth/token', base).toString();
}

function post(url, body, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

// A reason for the log, without secrets: no token, no request body, no URL query.
function describe(error) {
  if (error && error.name === 'TimeoutError') return `timed out after ${HTTP_TIMEOUT_MS} ms`;
  if (error && error.cause && error.cause.code) return `${error.message} (${error.cause.code})`;
  return error && error.message ? error.message : String(error);
}
