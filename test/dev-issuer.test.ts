// The local development issuer: Auth0's client-credentials exchange, served by the app itself, and config rules.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import supertest from 'supertest';
import { createApp } from '../src/app';
import { createDevIssuer, loadOrCreateDevIssuerState, type DevIssuer } from '../src/auth/dev-issuer';
import { ConfigError, loadConfig } from '../src/config';
import { createDatabaseClients, type DatabaseClients } from '../src/db/prisma';
import { createLogger } from '../src/logger';
import { createTestDatabase, type TestDatabase } from './support/database';
import { expectData } from './support/graphql';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

// The app in development mode, serving its own issuer at http://localhost:<port>/.
let server: http.Server;
let port: number;
let database: TestDatabase;
let databaseClients: DatabaseClients;
let devIssuer: DevIssuer;
let issuerDir: string;
const logs: string[] = [];
let stopApollo: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  issuerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-issuer-'));
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const config = loadConfig({ NODE_ENV: 'development', PORT: String(port), DATABASE_URL: database.url, DEV_ISSUER_DIR: issuerDir, LOG_PRETTY: 'false' });
  const logger = createLogger(config.log, { write: (line: string) => void logs.push(line) });
  databaseClients = createDatabaseClients({ connectionString: database.url, poolSize: 5, logger });
  devIssuer = await createDevIssuer({ issuer: config.auth.issuer, audience: config.auth.audience, state: await loadOrCreateDevIssuerState(issuerDir) });
  const { app, apollo } = await createApp({ config, prisma: databaseClients.prisma, sql: databaseClients.sql, logger, devIssuer });
  stopApollo = () => apollo.stop();
  server.on('request', app);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await stopApollo();
  await databaseClients.close();
  await database.drop();
  fs.rmSync(issuerDir, { recursive: true, force: true });
});

const api = () => supertest(`http://localhost:${port}`);
const clientCredentials = (overrides: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_id: devIssuer.client.id,
  client_secret: devIssuer.client.secret,
  audience: devIssuer.audience,
  ...overrides,
});

describe('POST /oauth/token, as Auth0 answers it', () => {
  it('exchanges the dev client\'s credentials for a token that can call addUser', async () => {
    const response = await api().post('/oauth/token').send(clientCredentials());
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: 'create:users read:users read:transactions migrate:users update:users delete:users' });

    const auth0Id = `google-oauth2|${randomUUID()}`;
    const data = await expectData<{ addUser: { created: boolean } }>(
      { request: () => supertest.agent(`http://localhost:${port}`) },
      { query: 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }', variables: { input: { auth0Id } }, token: response.body.access_token },
    );
    expect(data.addUser.created).toBe(true);
    expect(await databaseClients.prisma.user.count({ where: { auth0Id } })).toBe(1);
  });

  it('accepts a form-encoded request and narrows the scopes to those asked for', async () => {
    const response = await api().post('/oauth/token').type('form').send(clientCredentials({ scope: 'create:users' }));
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('create:users');
  });

  it('refuses a wrong client secret with 401 access_denied', async () => {
    const response = await api().post('/oauth/token').send(clientCredentials({ client_secret: 'wrong' }));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'access_denied', error_description: 'Unauthorized' });
  });

  it('refuses an unknown audience with 403 and another grant type with 400', async () => {
    expect((await api().post('/oauth/token').send(clientCredentials({ audience: 'https://elsewhere.example/' }))).status).toBe(403);
    expect((await api().post('/oauth/token').send(clientCredentials({ grant_type: 'password' }))).body.error).toBe('unsupported_grant_type');
  });

  it('never writes the client secret or the issued token into the logs', async () => {
    const response = await api().post('/oauth/token').send(clientCredentials());
    await api().post('/graphql').set('authorization', `Bearer ${response.body.access_token}`).send({ query: '{ viewer { kind } }' });
    const allLogs = logs.join('');
    expect(allLogs).toContain('/oauth/token');
    expect(allLogs).not.toContain(devIssuer.client.secret);
    expect(allLogs).not.toContain(response.body.access_token);
  });

  it('serves its JWKS and an OpenID discovery document naming it', async () => {
    const discovery = await api().get('/.well-known/openid-configuration');
    expect(discovery.body).toMatchObject({ issuer: `http://localhost:${port}/`, jwks_uri: `http://localhost:${port}/.well-known/jwks.json` });
    const jwks = await api().get('/.well-known/jwks.json');
    expect(jwks.body.keys).toHaveLength(1);
    expect(jwks.body.keys[0]).not.toHaveProperty('d');
  });
});

describe('npm run token', () => {
  const token = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DEV_ISSUER_DIR: issuerDir, PORT: String(port), AUTH0_DOMAIN: '', AUTH0_ISSUER_BASE_URL: '', NODE_ENV: 'development' },
    });
    return stdout.trim();
  };
  const viewer = async (bearer: string) => {
    const response = await api().post('/graphql').set('authorization', `Bearer ${bearer}`).send({ query: '{ viewer { kind subject scopes } }' });
    return response.body.data.viewer as { kind: string; subject: string; scopes: string[] };
  };

  it('mints a machine token with the scopes asked for, accepted by the server', async () => {
    const result = await viewer(await token('--machine', '--scope', 'create:users'));
    expect(result).toEqual({ kind: 'MACHINE', subject: `${devIssuer.client.id}@clients`, scopes: ['create:users'] });
  });

  it('mints an end user\'s token for the given sub', async () => {
    const result = await viewer(await token('--user', 'google-oauth2|123'));
    expect(result.kind).toBe('USER');
    expect(result.subject).toBe('google-oauth2|123');
  });

  it('refuses to run without saying what to mint', async () => {
    await expect(token()).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Usage:') });
  });
});

describe('configuration', () => {
  it('refuses to start in production without a real Auth0 issuer, naming the setting', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH0_DOMAIN: required in production/);
  });

  it('lists every bad value in one message', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'not-a-port', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://nope', AUTH0_DOMAIN: 'https://tenant.auth0.com' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'AUTH0_DOMAIN']) expect(problems).toContain(name);
  });

  it('reports a bad value and a missing companion setting together, in one pass', () => {
    let error: unknown;
    try {
      loadConfig({ AUTH0_DOMAIN: 'x', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL: .*\n.*AUTH0_AUDIENCE: required with AUTH0_DOMAIN/s);
  });

  it('requires the audience when a tenant is configured, and derives the issuer and JWKS from the domain', () => {
    expect(() => loadConfig({ AUTH0_DOMAIN: 'tenant.eu.auth0.com' })).toThrow(/AUTH0_AUDIENCE/);
    const config = loadConfig({ AUTH0_DOMAIN: 'tenant.eu.auth0.com', AUTH0_AUDIENCE: 'https://api.example.com/', NODE_ENV: 'production' });
    expect(config.auth).toMatchObject({
      mode: 'auth0',
      issuer: 'https://tenant.eu.auth0.com/',
      jwksUri: 'https://tenant.eu.auth0.com/.well-known/jwks.json',
      audience: 'https://api.example.com/',
    });
  });
});
