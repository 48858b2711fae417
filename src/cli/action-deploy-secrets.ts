// The Post Login Action's secrets, read from the environment under the names the deploy commands document.
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
