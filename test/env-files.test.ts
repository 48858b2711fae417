// The .env files at the root: read by the server and every npm script, under the environment, and said at start-up.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { loadEnvFiles } from '../src/env-files';
import { createTestDatabase, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { ROOT, startServerProcessIn } from './support/server-process';

const run = promisify(execFile);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadEnvFiles', () => {
  it('fills what the environment leaves unset, from .env first, then .env.auth0, and says which names it took', () => {
    fs.writeFileSync(path.join(dir, '.env'), '# mine\nPORT=4100\nLOG_LEVEL=debug\nHOST=\n');
    fs.writeFileSync(path.join(dir, '.env.auth0'), 'PORT=4200\nAUTH0_AUDIENCE=https://api.example.com/\n');
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
    const read = loadEnvFiles(dir, env);
    expect(env).toEqual({ PORT: '4100', LOG_LEVEL: 'warn', HOST: '127.0.0.1', AUTH0_AUDIENCE: 'https://api.example.com/' });
    expect(read).toEqual([
      { file: '.env', applied: ['PORT'], overridden: ['HOST', 'LOG_LEVEL'] },
      { file: '.env.auth0', applied: ['AUTH0_AUDIENCE'], overridden: ['PORT'] },
    ]);
  });

  it('keeps a value the environment sets to empty, and reads nothing when there is no file', () => {
    fs.writeFileSync(path.join(dir, '.env'), 'DATABASE_URL=postgresql://u:p@db/app\n');
    const env: NodeJS.ProcessEnv = { DATABASE_URL: '' };
    loadEnvFiles(dir, env);
    expect(env.DATABASE_URL).toBe('');
    expect(loadEnvFiles(path.join(dir, 'nothing-here'), env)).toEqual([]);
  });
});

describe('package.json', () => {
  it('every script that runs our code preloads the .env files, once', () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const ours = Object.entries(scripts).filter(([, command]) => /^exec node /.test(command));
    expect(ours.map(([name]) => name)).toEqual(expect.arrayContaining(['start', 'start:dist', 'token', 'login:simulate', 'tunnel', 'users:import', 'db:seed']));
    const preload = (command: string) => command.match(/--import \.\/(src\/load-env-files\.ts|dist\/load-env-files\.js) /g)?.length ?? 0;
    expect(ours.filter(([, command]) => preload(command) !== 1).map(([name]) => name)).toEqual([]);
  });
});

describe('npm start with a .env', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(() => database.drop());

  it('listens on the PORT of .env, takes AUTH0_AUDIENCE from .env.auth0, lets the environment win, and says what it read', async () => {
    const port = await freePort();
    fs.writeFileSync(path.join(dir, '.env'), `PORT=${port}\nDATABASE_URL=${database.url}\nLOG_LEVEL=silent\n`);
    fs.writeFileSync(path.join(dir, '.env.auth0'), `PORT=1\nAUTH0_AUDIENCE=https://from-env-auth0.example/\nACTION_CLIENT_SECRET=not-for-the-logs\n`);
    const server = startServerProcessIn(dir, { LOG_LEVEL: 'info' });
    try {
      await server.waitForOutput(/GraphQL API ready/, 120_000);
      expect(server.output()).toContain(`listening on port ${port}`);
      expect(server.output()).toContain('settings read from .env: DATABASE_URL, PORT (already set, so not from .env: LOG_LEVEL)');
      expect(server.output()).toContain('settings read from .env.auth0: ACTION_CLIENT_SECRET, AUTH0_AUDIENCE (already set, so not from .env.auth0: PORT)');
      expect(server.output()).toContain('audience       https://from-env-auth0.example/');
      expect(server.output()).not.toContain('not-for-the-logs');
      expect(fs.existsSync(path.join(dir, '.data/dev-issuer/issuer.json'))).toBe(true);
      server.signal('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.signal('SIGKILL');
    }
  }, 180_000);

  it('names the file a bad value came from', async () => {
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=forty\n');
    const server = startServerProcessIn(dir, {});
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('PORT is "forty": expected a port number');
    expect(server.output()).toContain('Settings read from .env (PORT); the environment wins over them.');
  }, 60_000);
});

describe('a command with a .env', () => {
  it('npm run token mints for the PORT of .env, unless the environment names another', async () => {
    fs.writeFileSync(path.join(dir, '.env'), 'PORT=4321\n');
    const token = async (env: Record<string, string>) => {
      const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
      const preload = pathToFileURL(path.join(ROOT, 'src/load-env-files.ts')).href;
      const { stdout } = await run(process.execPath, ['--import', tsx, '--import', preload, path.join(ROOT, 'src/cli/token.ts'), '--machine'], { cwd: dir, env: { PATH: process.env.PATH, ...env } });
      return decodeJwt(stdout.trim()).iss;
    };
    expect(await token({})).toBe('http://localhost:4321/');
    expect(await token({ PORT: '4322' })).toBe('http://localhost:4322/');
  }, 60_000);
});
