// `npm run token`: mints an access token from the local development issuer.
import { parseArgs } from 'node:util';
import { createDevIssuer, DEV_SCOPES, loadOrCreateDevIssuerState } from '../auth/dev-issuer';
import { localTarget } from '../auth/running-dev-server';
import { loadConfig } from '../config';

const USAGE = `Usage:
  npm run token -- --machine [--scope "create:users read:users"]   a machine-to-machine token
  npm run token -- --user 'google-oauth2|123' [--email a@b.c]      an end user's token
Options: --expires-in <seconds> (default 86400). Prints only the token.
--machine without --scope grants every scope of the local API (${DEV_SCOPES.join(', ')}).
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
    process.stderr.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const config = loadConfig();
  if (config.auth.mode !== 'dev') {
    throw new Error('AUTH0_DOMAIN is set: get tokens from your Auth0 tenant. This command mints tokens for the local development issuer only.');
  }
  const expiresInSeconds = values['expires-in'] ? Number(values['expires-in']) : undefined;
  if (expiresInSeconds !== undefined && !(Number.isInteger(expiresInSeconds) && expiresInSeconds > 0)) {
    process.stderr.write(`--expires-in must be a whole number of seconds, got "${values['expires-in']}"\n${USAGE}\n`);
    process.exit(2);
  }
  const scopes = values.scope?.split(/[ ,]+/).filter(Boolean);
  const issuer = await createDevIssuer({
    // The running server's issuer (its URL holds its port), so the token is accepted whatever PORT this shell has.
    issuer: localTarget(config).issuer,
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
    : await issuer.sign({ kind: 'machine', scopes: scopes ?? DEV_SCOPES, expiresInSeconds });
  process.stdout.write(`${token}\n`);
}

mintToken().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
