// `npm run action:deploy`: creates or updates the Post Login Action in Auth0, sets its secrets, deploys and binds it.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deployAction } from '../auth0-deploy/deploy-action';
import { createResources } from '../auth0-deploy/create-resources';
import { deployLegacyConnection } from '../auth0-deploy/deploy-legacy-connection';
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { actionSecretsFrom } from './action-deploy-secrets';

const ROOT = path.resolve(__dirname, '../..');

const USAGE = `Usage: npm run action:deploy [-- --action-file actions/post-login.js --name <Action name> --create-resources --legacy-connection <name>]
--legacy-connection also creates or updates the custom database connection of an automatic migration
(import mode, actions/custom-db/login.js and get-user.js, their configuration from the same variables)
and gives the Action its LEGACY_CONNECTION secret.
Environment: AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET (a Management API M2M app),
and the Action's secrets: ACTION_CLIENT_ID, ACTION_CLIENT_SECRET (the M2M app granted create:users),
AUTH0_AUDIENCE, ACTION_API_URL, optional ACTION_FAIL_CLOSED and AUTH0_CLAIMS_NAMESPACE.`;

async function deploy(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'action-file': { type: 'string', default: 'actions/post-login.js' },
      name: { type: 'string', default: process.env.ACTION_NAME ?? 'auth0-postgres-sync provisioning' },
      'create-resources': { type: 'boolean', default: false },
      'write-env': { type: 'string', default: '.env.auth0' },
      'legacy-connection': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const management = createManagementClient(process.env);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const env = { ...process.env };
  if (values['create-resources']) {
    if (!env.AUTH0_AUDIENCE) throw new Error('Set AUTH0_AUDIENCE: the identifier of the API to create, e.g. https://api.example.com/');
    const resources = await createResources(management, { audience: env.AUTH0_AUDIENCE, appName: 'auth0-postgres-sync provisioner', say });
    env.ACTION_CLIENT_ID = resources.clientId;
    if (resources.clientSecret) {
      env.ACTION_CLIENT_SECRET = resources.clientSecret;
      // The secret goes to a git-ignored file only its owner can read, never to the terminal.
      const file = path.resolve(ROOT, values['write-env']);
      fs.writeFileSync(file, `# Written by npm run action:deploy -- --create-resources\nACTION_CLIENT_ID=${resources.clientId}\nACTION_CLIENT_SECRET=${resources.clientSecret}\nAUTH0_AUDIENCE=${resources.audience}\n`, { mode: 0o600 });
      say(`put in your environment: ACTION_CLIENT_ID=${resources.clientId}, AUTH0_AUDIENCE=${resources.audience}, and ACTION_CLIENT_SECRET (written to ${values['write-env']}, git-ignored)`);
    } else {
      say(`put in your environment: ACTION_CLIENT_ID=${resources.clientId}, AUTH0_AUDIENCE=${resources.audience}, and ACTION_CLIENT_SECRET from the application's settings in the dashboard`);
    }
  }
  const legacyConnection = values['legacy-connection'];
  const secrets: Record<string, string> = { ...actionSecretsFrom(env), ...(legacyConnection ? { LEGACY_CONNECTION: legacyConnection } : {}) };
  if (legacyConnection) {
    const read = (file: string) => fs.readFileSync(path.resolve(ROOT, file), 'utf8');
    const pick = (name: string) => secrets[name]!;
    say(`deploying the custom database connection "${legacyConnection}" (configuration: AUTH0_DOMAIN, CLIENT_ID, CLIENT_SECRET, API_AUDIENCE, API_URL)`);
    await deployLegacyConnection({
      management,
      name: legacyConnection,
      scripts: { login: read('actions/custom-db/login.js'), get_user: read('actions/custom-db/get-user.js') },
      configuration: Object.fromEntries(['AUTH0_DOMAIN', 'CLIENT_ID', 'CLIENT_SECRET', 'API_AUDIENCE', 'API_URL'].map((name) => [name, pick(name)])),
      say,
    });
  }
  const code = fs.readFileSync(path.resolve(ROOT, values['action-file']), 'utf8');
  say(`deploying ${values['action-file']} to ${process.env.AUTH0_DOMAIN} as "${values.name}" (secrets: ${Object.keys(secrets).join(', ')})`);
  const result = await deployAction({ management, name: values.name, code, secrets, say, pollIntervalMs: Number(process.env.ACTION_BUILD_POLL_MS ?? 1000) });
  const changed = Object.values(result.changed).some(Boolean);
  say(changed ? 'done.' : 'nothing to change: the Action is deployed and bound as it should be.');
}

deploy().catch((error: unknown) => {
  process.stderr.write(`action:deploy failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
