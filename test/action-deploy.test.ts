// `npm run action:deploy` against a local stand-in of the Management API, through the real auth0 SDK.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { ROOT } from './support/server-process';

const run = promisify(execFile);

let mgmt: ManagementApiStandIn;
let actionSecret: string;
beforeEach(async () => {
  mgmt = await startManagementApi();
  actionSecret = `action-secret-${randomUUID()}`;
  // Another team's Action already in the login flow.
  mgmt.bindings.push({ id: 'b-existing', trigger_id: 'post-login', display_name: 'Existing MFA Action', action: { id: 'existing-action', name: 'Existing MFA Action' } });
});
afterEach(() => mgmt.close());

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...mgmt.env,
    ACTION_CLIENT_ID: 'action-client-id',
    ACTION_CLIENT_SECRET: actionSecret,
    AUTH0_AUDIENCE: 'https://api.example.com/',
    ACTION_API_URL: 'https://sync.example.ngrok.app/graphql',
    ACTION_BUILD_POLL_MS: '10',
    ...overrides,
  };
}

async function deploy(overrides: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/action-deploy.ts'], { cwd: ROOT, env: env(overrides) });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

const writes = () => mgmt.calls.filter((call) => call.method !== 'GET' && call.path !== '/oauth/token').map((call) => `${call.method} ${call.path}`);

it('creates the Action with its secrets, waits for the build, deploys it and binds it after the Actions already bound', async () => {
  const result = await deploy();
  expect(result.code).toBe(0);
  const [action] = [...mgmt.actions.values()];
  expect(writes()).toEqual(['POST /api/v2/actions/actions', `POST /api/v2/actions/actions/${action!.id}/deploy`, 'PATCH /api/v2/actions/triggers/post-login/bindings']);

  const create = mgmt.calls.find((call) => call.method === 'POST' && call.path === '/api/v2/actions/actions')!.body as Record<string, unknown>;
  expect(create).toMatchObject({ name: 'auth0-postgres-sync provisioning', runtime: 'node22', supported_triggers: [{ id: 'post-login', version: 'v3' }], dependencies: [] });
  expect(String(create.code)).toContain('exports.onExecutePostLogin');
  expect(create.secrets).toEqual([
    { name: 'AUTH0_DOMAIN', value: mgmt.domain },
    { name: 'CLIENT_ID', value: 'action-client-id' },
    { name: 'CLIENT_SECRET', value: actionSecret },
    { name: 'API_AUDIENCE', value: 'https://api.example.com/' },
    { name: 'API_URL', value: 'https://sync.example.ngrok.app/graphql' },
    { name: 'FAIL_CLOSED', value: 'false' },
  ]);
  expect(mgmt.calls.filter((call) => call.path === `/api/v2/actions/actions/${action!.id}` && call.method === 'GET').length).toBeGreaterThanOrEqual(2);
  expect(mgmt.bindings.map((binding) => binding.action.id)).toEqual(['existing-action', action!.id]);
  expect(result.out).not.toContain(actionSecret);
  expect(result.out).not.toContain(mgmt.client.secret);
});

it('changes nothing when run a second time', async () => {
  expect((await deploy()).code).toBe(0);
  const before = mgmt.calls.length;
  const second = await deploy();
  expect(second.code).toBe(0);
  expect(second.out).toContain('nothing to change');
  expect(mgmt.calls.slice(before).filter((call) => call.method !== 'GET' && call.path !== '/oauth/token')).toEqual([]);
});

it('updates and redeploys when a secret changes, keeping the binding order', async () => {
  expect((await deploy()).code).toBe(0);
  const before = mgmt.calls.length;
  const result = await deploy({ ACTION_API_URL: 'https://another.ngrok.app/graphql' });
  expect(result.code).toBe(0);
  const [action] = [...mgmt.actions.values()];
  expect(mgmt.calls.slice(before).filter((call) => call.method !== 'GET' && call.path !== '/oauth/token').map((call) => `${call.method} ${call.path}`)).toEqual([
    `PATCH /api/v2/actions/actions/${action!.id}`,
    `POST /api/v2/actions/actions/${action!.id}/deploy`,
  ]);
  expect(action!.secrets.find((secret) => secret.name === 'API_URL')?.value).toBe('https://another.ngrok.app/graphql');
  expect(mgmt.bindings.map((binding) => binding.action.id)).toEqual(['existing-action', action!.id]);
});

it('stops with a clear message and a non-zero exit when the Management API refuses the credentials (401)', async () => {
  const result = await deploy({ AUTH0_MGMT_CLIENT_SECRET: 'wrong' });
  expect(result.code).toBe(1);
  expect(result.out).toContain('action:deploy failed: the Management API refused the credentials (401)');
  expect(result.out).not.toMatch(/\n\s+at /);
  expect(writes()).toEqual([]);
});

it('stops with a clear message when the Management API keeps answering 429, naming the retry-after', async () => {
  mgmt.failRequests('/actions/actions', 429, { 'retry-after': '1' });
  const result = await deploy();
  expect(result.code).toBe(1);
  expect(result.out).toContain('rate limiting this tenant (429); it asks to retry after 1 s');
  expect(mgmt.calls.filter((call) => call.path === '/api/v2/actions/actions').length).toBeGreaterThan(1);
});

it('stops with a clear message when Auth0 cannot build the Action, and deploys nothing', async () => {
  mgmt.failNextBuild();
  const result = await deploy();
  expect(result.code).toBe(1);
  expect(result.out).toContain('Auth0 could not build the Action (status "failed")');
  expect(writes()).toEqual(['POST /api/v2/actions/actions']);
});

it('says which settings are missing', async () => {
  const result = await deploy({ AUTH0_MGMT_CLIENT_ID: '', ACTION_API_URL: '' });
  expect(result.code).toBe(1);
  expect(result.out).toContain('Set AUTH0_MGMT_CLIENT_ID');
});

it('with --create-resources creates the API, the M2M application and its grant once, deploys with their credentials, and never prints the secret', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-'));
  const envFile = path.join(dir, '.env.auth0');
  const withResources = async () => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/action-deploy.ts', '--create-resources', '--write-env', envFile], { cwd: ROOT, env: env({ ACTION_CLIENT_ID: '', ACTION_CLIENT_SECRET: '' }) });
      return stdout + stderr;
    } catch (error) {
      const failed = error as { stdout: string; stderr: string };
      throw new Error(failed.stdout + failed.stderr);
    }
  };
  try {
    const out = await withResources();
    expect(writes().slice(0, 3)).toEqual(['POST /api/v2/resource-servers', 'POST /api/v2/clients', 'POST /api/v2/client-grants']);
    const api = mgmt.calls.find((call) => call.path === '/api/v2/resource-servers' && call.method === 'POST')!.body as { identifier: string; scopes: Array<{ value: string }> };
    expect(api.identifier).toBe('https://api.example.com/');
    expect(api.scopes.map((scope) => scope.value)).toEqual(['create:users', 'read:users', 'read:transactions', 'migrate:users', 'update:users', 'delete:users']);
    expect(mgmt.calls.find((call) => call.path === '/api/v2/clients' && call.method === 'POST')!.body).toMatchObject({ app_type: 'non_interactive', grant_types: ['client_credentials'] });
    const grant = mgmt.calls.find((call) => call.path === '/api/v2/client-grants' && call.method === 'POST')!.body as { client_id: string; scope: string[] };
    expect(grant.scope).toEqual(['create:users', 'migrate:users']);

    const written = fs.readFileSync(envFile, 'utf8');
    const secret = written.match(/ACTION_CLIENT_SECRET=(\S+)/)![1]!;
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    expect(out).not.toContain(secret);
    expect(out).toContain(`ACTION_CLIENT_ID=${grant.client_id}`);
    const [action] = [...mgmt.actions.values()];
    expect(action!.secrets).toEqual(expect.arrayContaining([{ name: 'CLIENT_ID', value: grant.client_id }, { name: 'CLIENT_SECRET', value: secret }]));

    const before = mgmt.calls.length;
    await expect(withResources()).rejects.toThrow(/Set ACTION_CLIENT_SECRET/);
    expect(mgmt.calls.slice(before).filter((call) => call.method === 'POST' && call.path !== '/oauth/token')).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
