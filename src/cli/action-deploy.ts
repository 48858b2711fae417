// `npm run action:deploy`: creates or updates the Post Login Action in Auth0, sets its secrets, deploys and binds it.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deployAction } from '../auth0-deploy/deploy-action';
import { createManagementClient, describeManagementError } from '../auth0-deploy/management-client';

const ROOT = path.resolve(__dirname, '../..');

const USAGE = `Usage: npm run action:deploy [-- --action-file actions/post-login.js --name <Action name>]
Environment: AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET (a Management API M2M app),
and the Action's secrets: ACTION_CLIENT_ID, ACTION_CLIENT_SECRET (the M2M app granted create:users),
AUTH0_AUDIENCE, ACTION_API_URL, optional ACTION_FAIL_CLOSED and AUTH0_CLAIMS_NAMESPACE.`;

/** The Action's secrets, from the environment; the names the Action reads. */
export function actionSecretsFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  const required = { AUTH0_DOMAIN: env.AUTH0_DOMAIN, CLIENT_ID: env.ACTION_CLIENT_ID, CLIENT_SECRET: env.ACTION_CLIENT_SECRET, API_AUDIENCE: env.AUTH0_AUDIENCE, API_URL: env.ACTION_API_URL };
  const sources: Record<string, string> = { AUTH0_DOMAIN: 'AUTH0_DOMAIN', CLIENT_ID: 'ACTION_CLIENT_ID', CLIENT_SECRET: 'ACTION_CLIENT_SECRET', API_AUDIENCE: 'AUTH0_AUDIENCE', API_URL: 'ACTION_API_URL' };
  const missing = Object.entries(required).filter(([, value]) => !value).map(([name]) => sources[name]);
  if (missing.length > 0) throw new Error(`Set ${missing.join(', ')} (the Action's secrets).`);
  return {
    ...(required as Record<string, string>),
    FAIL_CLOSED: env.ACTION_FAIL_CLOSED === 'true' ? 'true' : 'false',
    ...(env.AUTH0_CLAIMS_NAMESPACE ? { CLAIMS_NAMESPACE: env.AUTH0_CLAIMS_NAMESPACE } : {}),
  };
}

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
