// ngrok.yml and `npm run tunnel`: the config both ngrok's agent and our SDK use, and the failures a user can meet here.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadNgrokConfig } from '../src/tunnel/ngrok-config';
import { createTestDatabase, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from './support/issuer';
import { ROOT } from './support/server-process';

const run = promisify(execFile);
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ngrok-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const configFile = (text: string) => {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(file, text);
  return file;
};

describe('ngrok.yml', () => {
  it('the repository\'s ngrok.yml is agent config v3 with an "api" endpoint forwarding to the server\'s port', () => {
    expect(loadNgrokConfig(path.join(ROOT, 'ngrok.yml'))).toEqual({ name: 'api', port: 4000, domain: undefined, connectUrl: undefined });
    expect(fs.readFileSync(path.join(ROOT, 'ngrok.yml'), 'utf8')).not.toMatch(/^\s*authtoken:/m);
  });

  it('reads a static domain and an upstream given as host:port', () => {
    const file = configFile('version: 3\nendpoints:\n  - name: api\n    url: https://sync-demo.ngrok-free.app\n    upstream:\n      url: localhost:4100\n');
    expect(loadNgrokConfig(file)).toEqual({ name: 'api', port: 4100, domain: 'sync-demo.ngrok-free.app', connectUrl: undefined });
  });

  it('reads agent.connect_url, where the agent dials the ngrok service', () => {
    const file = configFile('version: 3\nagent:\n  connect_url: connect.example.com:443\nendpoints:\n  - name: api\n    upstream:\n      url: 4000\n');
    expect(loadNgrokConfig(file)).toMatchObject({ connectUrl: 'connect.example.com:443' });
    expect(() => loadNgrokConfig(configFile('version: 3\nagent:\n  connect_url: https://x\nendpoints:\n  - name: api\n    upstream:\n      url: 4000\n'))).toThrow(/agent\.connect_url must be host:port/);
  });

  it.each([
    ['an old v2 file', 'version: 2\ntunnels:\n  api:\n    proto: http\n    addr: 4000\n', /version must be 3/],
    ['an authtoken written in the file', 'version: 3\nagent:\n  authtoken: abc\nendpoints:\n  - name: api\n    upstream:\n      url: 4000\n', /authtoken must not be in the file: set NGROK_AUTHTOKEN/],
    ['no endpoint named api', 'version: 3\nendpoints:\n  - name: web\n    upstream:\n      url: 3000\n', /no endpoint named "api" \(it has: web\)/],
  ])('refuses %s with a clear message', (_label, text, message) => {
    expect(() => loadNgrokConfig(configFile(text))).toThrow(message);
  });
});

describe('npm run tunnel', () => {
  let database: TestDatabase;
  let issuer: TestIssuer;
  beforeAll(async () => {
    database = await createTestDatabase();
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer.close();
    await database.drop();
  });

  const tunnel = async (env: Record<string, string>, config: string) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/tunnel.ts', '--config', config], {
        cwd: ROOT,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, AUTH0_ISSUER_BASE_URL: issuer.url, AUTH0_AUDIENCE: TEST_AUDIENCE, LOG_LEVEL: 'warn', ...env },
      });
      return { code: 0, out: stdout + stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  };

  it('without NGROK_AUTHTOKEN says exactly what to set, starts nothing and exits non-zero', async () => {
    const port = await freePort();
    const result = await tunnel({}, configFile(`version: 3\nendpoints:\n  - name: api\n    upstream:\n      url: ${port}\n`));
    expect(result.code).toBe(2);
    expect(result.out).toContain('NGROK_AUTHTOKEN is not set');
    expect(result.out).toContain('export NGROK_AUTHTOKEN=<your authtoken>');
    expect(await isListening(port)).toBe(false);
  });

  // The service is a local port nobody listens on (agent.connect_url), so the test means the same
  // with or without a network: with one, ngrok's real service would reject the fake authtoken instead.
  it('when the ngrok service cannot be reached, says so plainly, stops the server it started and exits non-zero', async () => {
    const port = await freePort();
    const service = `127.0.0.1:${await freePort()}`;
    const result = await tunnel({ NGROK_AUTHTOKEN: 'not-a-real-token' }, configFile(`version: 3\nagent:\n  connect_url: ${service}\nendpoints:\n  - name: api\n    upstream:\n      url: ${port}\n`));
    expect(result.code).toBe(1);
    expect(result.out).toContain('tunnel: could not reach the ngrok service');
    expect(result.out).toContain('check the network connection');
    expect(result.out).not.toMatch(/\n\s+at /);
    expect(result.out).not.toContain('not-a-real-token');
    expect(await isListening(port)).toBe(false);
  });
});

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
