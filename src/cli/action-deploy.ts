// `npm run action:deploy`: creates or updates the Post Login Action in Auth0, sets its secrets, deploys and binds it.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deployAction } from '../auth0-deploy/deploy-action';
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';
import { actionSecretsFrom } from './action-deploy-secrets';

const ROOT = path.resolve(__dirname, '../..');

const USAGE = `Usage: npm run action:deploy [-- --action-file actions/post-login.js --name <Action name>]
Environment: AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET (a Management API M2M app),
and the Action's secrets: ACTION_CLIENT_ID, ACTION_CLIENT_SECRET (the M2M app granted create:users),
AUTH0_AUDIENCE, ACTION_API_URL, optional ACTION_FAIL_CLOSED and AUTH0_CLAIMS_NAMESPACE.`;

async function deploy(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'action-file': { type: 'string', default: 'actions/post-login.js' },
      name: { type: 'string', default: 'auth0-postgres-sync provisioning' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const management = createManagementClient(process.env);
  const secrets = actionSecretsFrom(process.env);
  const code = fs.readFileSync(path.resolve(ROOT, values['action-file']), 'utf8');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`deploying ${values['action-file']} to ${process.env.AUTH0_DOMAIN} as "${values.name}" (secrets: ${Object.keys(secrets).join(', ')})`);
  const result = await deployAction({ management, name: values.name, code, secrets, say, pollIntervalMs: Number(process.env.ACTION_BUILD_POLL_MS ?? 1000) });
  const changed = Object.values(result.changed).some(Boolean);
  say(changed ? 'done.' : 'nothing to change: the Action is deployed and bound as it should be.');
}

deploy().catch((error: unknown) => {
  process.stderr.write(`action:deploy failed: ${describeManagementError(error)}\n`);
  process.exit(1);
});
