// `npm run tunnel -- --update-action`: sets the Action's API_URL secret to the tunnel's public URL and redeploys it.
import fs from 'node:fs';
import path from 'node:path';
import { deployAction, type DeployResult } from '../auth0-deploy/deploy-action';
import { createManagementClient } from '../auth0-deploy/management-client';
import { actionSecretsFrom } from '../cli/action-deploy-secrets';

const ROOT = path.resolve(__dirname, '../..');

/** The other secrets come from the environment, as for `npm run action:deploy`; only API_URL is the tunnel's. */
export function pointActionAtUrl(graphqlUrl: string, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<DeployResult> {
  const secrets = actionSecretsFrom({ ...env, ACTION_API_URL: graphqlUrl });
  const code = fs.readFileSync(path.join(ROOT, 'actions/post-login.js'), 'utf8');
  return deployAction({
    management: createManagementClient(env),
    name: env.ACTION_NAME ?? 'auth0-postgres-sync provisioning',
    code,
    secrets,
    say,
    pollIntervalMs: Number(env.ACTION_BUILD_POLL_MS ?? 1000),
  });
}
