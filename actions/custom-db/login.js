/**
 * Auth0 custom database connection, Login script (automatic migration, "Import Users to Auth0" on).
 *
 * Auth0 runs it for a user it does not hold yet. It asks the API whether the legacy password is
 * right; on success Auth0 creates the user as auth0|<user_id> with this password and never runs
 * the script for them again. The user_id is the permanent legacy id, so a retry or a race can
 * never create a second Auth0 user.
 *
 * Settings (the connection's configuration, read-only): AUTH0_DOMAIN (where the machine token
 * comes from: your tenant's domain; a full http(s):// URL is also accepted), CLIENT_ID and
 * CLIENT_SECRET (a machine-to-machine application granted `migrate:users` on the API),
 * API_AUDIENCE (the API's identifier), API_URL (its GraphQL endpoint).
 *
 * The machine token is cached in `global`, which Auth0 shares between the scripts of one container
 * (recycled after a few minutes) and documents for non-user-specific client-credentials tokens.
 * What is cached is the promise of the request, from the moment it is sent: concurrent runs of both
 * scripts in a cold container share one token request (each counts against the M2M token quota).
 * Auth0 stores this file as the text of one function: helpers live inside it. Node 22: fetch, no
 * npm modules. It never logs, and no error it returns holds the password, the token or a secret.
 */
async function login(email, password, callback) {
  const HTTP_TIMEOUT_MS = 5000; // two calls of at most 5 s each stay well inside Auth0's ~20 s
  const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;
  const TOKEN_KEY = 'postgresSyncLegacyToken';
  const VERIFY = 'mutation VerifyLegacyPassword($input: VerifyLegacyPasswordInput!) { verifyLegacyPassword(input: $input) { valid profile { legacyId email emailVerified name picture userMetadata appMetadata } } }';

  function post(url, body, headers) {
    return fetch(url, {
      method: 'POST',
      headers: Object.assign({ 'content-type': 'application/json' }, headers || {}),
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (error) {
      return undefined;
    }
  }

  async function requestToken() {
    const domain = configuration.AUTH0_DOMAIN;
    const base = /^https?:\/\//.test(domain) ? domain : 'https://' + domain;
    const response = await post(new URL('/oauth/token', base).toString(), {
      grant_type: 'client_credentials',
      client_id: configuration.CLIENT_ID,
      client_secret: configuration.CLIENT_SECRET,
      audience: configuration.API_AUDIENCE,
    });
    const body = await readJson(response);
    if (!response.ok || !body || typeof body.access_token !== 'string') throw new Error('the token endpoint answered HTTP ' + response.status);
    return body;
  }

  // One token request per container: `global[TOKEN_KEY]` holds the promise of it from the moment it
  // is sent, so concurrent runs of both scripts wait on the same request instead of each counting
  // against the tenant's M2M token quota. A failed request is dropped at once: the next run asks again.
  function machineToken() {
    const cached = global[TOKEN_KEY];
    if (cached && cached.promise && Date.now() < cached.expiresAt - TOKEN_EXPIRY_MARGIN_MS) return cached;
    const entry = { promise: undefined, expiresAt: Infinity }; // in flight: fresh until it settles
    entry.promise = requestToken().then(
      (body) => {
        entry.expiresAt = Date.now() + Number(body.expires_in) * 1000;
        return body.access_token;
      },
      (error) => {
        if (global[TOKEN_KEY] === entry) delete global[TOKEN_KEY];
        throw error;
      },
    );
    global[TOKEN_KEY] = entry;
    return entry;
  }

  // GraphQL variables only: nothing the user typed becomes part of the query.
  async function callApi(query, variables) {
    for (let attempt = 1; ; attempt += 1) {
      const token = machineToken();
      const response = await post(configuration.API_URL, { query: query, variables: variables }, { authorization: 'Bearer ' + (await token.promise) });
      if (response.status === 401 && attempt === 1) {
        // Revoked or rotated: drop it, unless a concurrent run already has, and get a fresh one, once.
        if (global[TOKEN_KEY] === token) delete global[TOKEN_KEY];
        continue;
      }
      const body = await readJson(response);
      const code = body && body.errors && body.errors[0] && body.errors[0].extensions ? body.errors[0].extensions.code : undefined;
      return { status: response.status, code: code, data: body && body.data };
    }
  }

  function describe(error) {
    if (error && error.name === 'TimeoutError') return 'timed out after ' + HTTP_TIMEOUT_MS + ' ms';
    if (error && error.cause && error.cause.code) return error.cause.code;
    return error && error.message ? error.message : 'unknown error';
  }

  let answer;
  try {
    answer = await callApi(VERIFY, { input: { email: email, password: password } });
  } catch (error) {
    return callback(new Error('The user store could not be reached (' + describe(error) + '). Please try again.'));
  }
  // A malformed email or an over-long password is a wrong login, not an outage.
  if (answer.code === 'BAD_USER_INPUT') return callback(new WrongUsernameOrPasswordError(email));
  const result = answer.data && answer.data.verifyLegacyPassword;
  if (answer.status !== 200 || !result) {
    return callback(new Error('The user store answered HTTP ' + answer.status + (answer.code ? ' ' + answer.code : '') + '. Please try again.'));
  }
  if (!result.valid || !result.profile) return callback(new WrongUsernameOrPasswordError(email));
  const profile = result.profile;
  return callback(null, {
    user_id: profile.legacyId,
    email: profile.email,
    email_verified: profile.emailVerified,
    name: profile.name || undefined,
    picture: profile.picture || undefined,
    user_metadata: profile.userMetadata,
    app_metadata: profile.appMetadata,
  });
}
