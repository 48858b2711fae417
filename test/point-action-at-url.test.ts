// `npm run tunnel -- --update-action` after the tunnel is up, against the local Management API stand-in through the real auth0 SDK.
import { randomUUID } from 'node:crypto';
import { pointActionAtUrl } from '../src/tunnel/point-action-at-url';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';

let mgmt: ManagementApiStandIn;
let lines: string[];
let actionSecret: string;
beforeEach(async () => {
  mgmt = await startManagementApi();
  lines = [];
  actionSecret = `action-secret-${randomUUID()}`;
  mgmt.bindings.push({ id: 'b-existing', trigger_id: 'post-login', display_name: 'Existing MFA Action', action: { id: 'existing-action', name: 'Existing MFA Action' } });
});
afterEach(() => mgmt.close());

function env(): NodeJS.ProcessEnv {
  return {
    ...mgmt.env,
    ACTION_CLIENT_ID: 'action-client-id',
    ACTION_CLIENT_SECRET: actionSecret,
    AUTH0_AUDIENCE: 'https://api.example.com/',
    ACTION_BUILD_POLL_MS: '10',
  };
}

const writesSince = (from: number) =>
  mgmt.calls.slice(from).filter((call) => call.method !== 'GET' && call.path !== '/oauth/token').map((call) => `${call.method} ${call.path}`);

it('sets the Action\'s API_URL to the new public URL and redeploys it, keeping the binding order', async () => {
  await pointActionAtUrl('https://first-session.ngrok-free.app/graphql', env(), (line) => lines.push(line));
  const [action] = [...mgmt.actions.values()];
  const before = mgmt.calls.length;

  const result = await pointActionAtUrl('https://second-session.ngrok-free.app/graphql', env(), (line) => lines.push(line));

  expect(result.changed).toEqual({ action: true, deployed: true, bound: false });
  expect(writesSince(before)).toEqual([`PATCH /api/v2/actions/actions/${action!.id}`, `POST /api/v2/actions/actions/${action!.id}/deploy`]);
  expect(action!.secrets.find((secret) => secret.name === 'API_URL')?.value).toBe('https://second-session.ngrok-free.app/graphql');
  expect(action!.secrets.find((secret) => secret.name === 'CLIENT_SECRET')?.value).toBe(actionSecret);
  expect(mgmt.bindings.map((binding) => binding.action.id)).toEqual(['existing-action', action!.id]);
  expect(lines.join('\n')).not.toContain(actionSecret);
  expect(lines.join('\n')).not.toContain(mgmt.client.secret);
});

it('changes nothing when the URL is the one the Action already has (a static domain)', async () => {
  await pointActionAtUrl('https://mine.ngrok.app/graphql', env(), (line) => lines.push(line));
  const before = mgmt.calls.length;

  const result = await pointActionAtUrl('https://mine.ngrok.app/graphql', env(), (line) => lines.push(line));

  expect(result.changed).toEqual({ action: false, deployed: false, bound: false });
  expect(writesSince(before)).toEqual([]);
});

it('says which of the Action\'s settings are missing before calling the Management API', async () => {
  const { ACTION_CLIENT_SECRET: _omitted, ...withoutSecret } = env();
  expect(() => pointActionAtUrl('https://mine.ngrok.app/graphql', withoutSecret, (line) => lines.push(line))).toThrow('Set ACTION_CLIENT_SECRET (the Action\'s secrets).');
  expect(mgmt.calls).toEqual([]);
});
