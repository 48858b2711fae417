// `npm run tunnel`: starts the server and opens an ngrok tunnel to it in-process, with the settings of ngrok.yml.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ngrok from '@ngrok/ngrok';
import { describeManagementError } from '../auth0-deploy/management-client';
import { loadNgrokConfig, NgrokConfigError } from '../tunnel/ngrok-config';
import { describeNgrokError } from '../tunnel/ngrok-errors';
import { pointActionAtUrl } from '../tunnel/point-action-at-url';

const ROOT = path.resolve(__dirname, '../..');
const say = (line: string) => process.stdout.write(`${line}\n`);

class TunnelError extends Error {}

async function tunnel(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'ngrok.yml' },
      endpoint: { type: 'string', default: 'api' },
      'update-action': { type: 'boolean', default: false },
    },
  });
  const endpoint = loadNgrokConfig(path.resolve(ROOT, values.config), values.endpoint);
  if (!process.env.NGROK_AUTHTOKEN) {
    throw new TunnelError(
      'NGROK_AUTHTOKEN is not set. Copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken and run:\n' +
        '  export NGROK_AUTHTOKEN=<your authtoken>\n  npm run tunnel',
    );
  }

  const server = startServer(endpoint.port);
  const stop = async (code: number) => {
    await ngrok.disconnect().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    process.exit(code);
  };
  // SIGHUP too (the terminal closed): the server child must not outlive us.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  try {
    await waitUntilReady(server, endpoint.port);
    const listener = await ngrok
      .forward({
        addr: endpoint.port,
        authtoken_from_env: true,
        ...(endpoint.domain ? { domain: endpoint.domain } : {}),
        ...(endpoint.connectUrl ? { server_addr: endpoint.connectUrl } : {}),
      })
      .catch((error: unknown) => {
        throw new TunnelError(describeNgrokError(error, endpoint.domain));
      });
    const graphqlUrl = `${listener.url()}/graphql`;
    say(`\nPublic GraphQL URL: ${graphqlUrl}\n(forwarding to http://localhost:${endpoint.port}; Ctrl-C to stop)`);
    if (values['update-action']) await updateActionUrl(graphqlUrl);
    else if (!endpoint.domain) say('This URL changes every session: run with --update-action to point the Action at it, or set a static domain in ngrok.yml.');
  } catch (error) {
    process.stderr.write(`tunnel: ${error instanceof TunnelError ? error.message : describeManagementError(error)}\n`);
    await stop(1);
  }
}

function startServer(port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], { cwd: ROOT, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
}

async function waitUntilReady(server: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new TunnelError(`the server exited (code ${server.exitCode}) before it was ready`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new TunnelError('the server was not ready within 120 s');
}

async function updateActionUrl(graphqlUrl: string): Promise<void> {
  say('Pointing the Action at this URL (API_URL) and redeploying...');
  await pointActionAtUrl(graphqlUrl, process.env, (line) => say(`  ${line}`));
}

tunnel().catch((error: unknown) => {
  process.stderr.write(`tunnel: ${error instanceof TunnelError || error instanceof NgrokConfigError ? error.message : String(error)}\n`);
  process.exit(error instanceof TunnelError && /NGROK_AUTHTOKEN is not set/.test(error.message) ? 2 : 1);
});
