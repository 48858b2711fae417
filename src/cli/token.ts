// `npm run token`: mints an access token from the local development issuer.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { API_SCOPES, configuredApiScopes } from '../auth/api-scopes';
import { createDevIssuer, loadOrCreateDevIssuerState } from '../auth/dev-issuer';
import { localTarget } from '../auth/running-dev-server';
import { loadConfig, type Config } from '../config';
import { isAuth0Id } from '../modules/users/user-input';

const usage = (scopes: string[]) => `Usage:
  npm run token -- --machine [--scope "create:users read:users"]   a machine-to-machine token
  npm run token -- --user 'google-oauth2|123' [--email a@b.c]      an end user's token
Options: --expires-in <seconds> (default 86400). Prints only the token; warnings go to stderr.
--machine without --scope grants every scope of the local API: ${scopes.join(' ')}
The token's issuer is the running server's (npm start publishes it in DEV_ISSUER_DIR), or
http://localhost:$PORT/ when none runs.`;

async function mintToken(): Promise<void> {
  const { values } = parseArgs({
    options: {
      machine: { type: 'boolean' },
      user: { type: 'string' },
      scope: { type: 'string' },
      email: { type: 'string' },
      'expires-in': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.machine && !values.user) || (values.machine && values.user)) {
    process.stderr.write(`${usage(scopesForHelp())}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const config = loadConfig();
  const apiScopes = configuredApiScopes(config.auth);
  if (config.auth.mode !== 'dev') {
    throw new Error('AUTH0_DOMAIN is set: get tokens from your Auth0 tenant. This command mints tokens for the local development issuer only.');
  }
  const expiresInSeconds = values['expires-in'] ? Number(values['expires-in']) : undefined;
  if (expiresInSeconds !== undefined && !(Number.isInteger(expiresInSeconds) && expiresInSeconds > 0)) {
    process.stderr.write(`--expires-in must be a whole number of seconds, got "${values['expires-in']}"\n${usage(apiScopes)}\n`);
    process.exit(2);
  }
  const scopes = values.scope?.split(/[ ,]+/).filter(Boolean);
  const target = localTarget(config);
  // Warnings only: the token is still minted (a server may be started later), and stdout stays the token alone.
  if (!target.running) warn(noServerWarning(config, target.issuer));
  if (values.user && !isAuth0Id(values.user)) {
    warn(`"${values.user}" is not an Auth0 user id (<connection>|<id>, such as 'google-oauth2|123'): the API refuses this token's user operations.`);
  }
  const issuer = await createDevIssuer({
    // The running server's issuer (its URL holds its port), so the token is accepted whatever PORT this shell has.
    issuer: target.issuer,
    audience: config.auth.audience,
    state: await loadOrCreateDevIssuerState(config.auth.devIssuerDir),
  });
  const ns = config.auth.claimsNamespace;
  const token = values.user
    ? await issuer.sign({
        kind: 'user',
        sub: values.user,
        scopes,
        extraClaims: values.email ? { [`${ns}email`]: values.email, [`${ns}email_verified`]: true } : {},
        expiresInSeconds,
      })
    : await issuer.sign({ kind: 'machine', scopes: scopes ?? apiScopes, expiresInSeconds });
  process.stdout.write(`${token}\n`);
}

/** The configured scope names; the defaults when the configuration has an error (help must still print). */
function scopesForHelp(): string[] {
  try {
    return configuredApiScopes(loadConfig().auth);
  } catch {
    return API_SCOPES.map((scope) => scope.value);
  }
}

function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

function noServerWarning(config: Config, issuer: string): string {
  const dir = path.relative(process.cwd(), config.auth.devIssuerDir) || config.auth.devIssuerDir;
  return `no local server is running for ${dir}: this token is for ${issuer}, which only a server started (npm start) on PORT ${config.http.port} with this DEV_ISSUER_DIR accepts.`;
}

mintToken().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
