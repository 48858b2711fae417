// `npm run bench`: our server and a reference server, side by side in one run, driven by autocannon.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { Client } from 'pg';
import pino from 'pino';
import { createDevIssuer, createDevIssuerState, type DevIssuer } from '../src/auth/dev-issuer';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { freePort } from '../test/support/free-port';
import { EXPORT_SHAPES } from './auth0-export';
import { cpuSeconds } from './cpu';
import { benchImport, type ImportBenchResult } from './import';
import { loginStorm, type StormResult } from './login-storm';

const ROOT = path.resolve(__dirname, '..');
const AUDIENCE = 'https://bench.example/api';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    users: { type: 'string', default: '10000' },
    transactions: { type: 'string', default: '1000000' },
    'deep-pages': { type: 'string', default: '1000' },
    'import-users': { type: 'string', default: '1000000' },
    scenarios: { type: 'string', default: '1,2,3,4,5,6,7' },
    'storm-rates': { type: 'string', default: '50,200,500' },
    'storm-seconds': { type: 'string', default: '30' },
    smoke: { type: 'boolean', default: false },
    profile: { type: 'string' },
    out: { type: 'string' },
  },
});
const smoke = flags.smoke;
const DURATION = smoke ? 2 : Number(flags.duration);
const CONNECTIONS = Number(flags.connections);
const USERS = smoke ? 200 : Number(flags.users);
const TRANSACTIONS = smoke ? 20_000 : Number(flags.transactions);
const DEEP_PAGES = smoke ? 20 : Number(flags['deep-pages']);
const PAGE_SIZE = 50;
// The heavy user holds enough transactions for the deep page plus a full page after it.
const HEAVY = (DEEP_PAGES + 1) * PAGE_SIZE + 50;
const STORM_RATES = (smoke ? '20,50' : flags['storm-rates']).split(',').map(Number);
const STORM_SECONDS = smoke ? 2 : Number(flags['storm-seconds']);

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  /** The server's CPU time per request, in microseconds (user + system, from /proc). */
  cpuMicrosPerRequest?: number;
}

interface ScenarioResult {
  name: string;
  ours: Measurement;
  reference: Measurement;
  ratioRps: number;
  ratioP99: number;
  ratioCpu?: number;
}

interface Target {
  name: 'ours' | 'reference';
  url: string;
  pid?: number;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  fs.chmodSync(dir, 0o777);
  const children: ChildProcess[] = [];
  const log = pino({ level: 'warn' });
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), logger: log });
  let issuerServer: Server | undefined;
  try {
    const databaseUrl = postgres.connectionString;
    await applyMigrations({ connectionString: databaseUrl, logger: log });
    step(`seeding ${USERS} users and ${TRANSACTIONS} transactions (one user with ${HEAVY})`);
    await seed(databaseUrl);

    const issuer = await startIssuer();
    issuerServer = issuer.server;
    const profileArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(flags.profile)}`] : [];
    const ours = await startProcess(children, 'ours', [...profileArgs, '--import', 'tsx', 'src/main.ts'], {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      AUTH0_ISSUER_BASE_URL: issuer.url,
      AUTH0_AUDIENCE: AUDIENCE,
      CURSOR_SECRET: 'bench-cursor-secret-bench-cursor-secret',
      // The load comes from one address and a few tokens: the bench measures throughput, not throttling.
      RATE_LIMIT_PER_IP: '100000000',
      RATE_LIMIT_PER_USER: '100000000',
      RATE_LIMIT_PER_MACHINE: '100000000',
      LOG_PRETTY: 'false',
    }, dir);
    const wanted = new Set(flags.scenarios.split(',').map((s) => Number(s.trim())));
    // Scenario 7 meets the server as deployed: the default configuration, rate limits included.
    const oursDefaults = wanted.has(7)
      ? await startProcess(children, 'ours', [...profileArgs, '--import', 'tsx', 'src/main.ts'], {
          NODE_ENV: 'production',
          DATABASE_URL: databaseUrl,
          AUTH0_ISSUER_BASE_URL: issuer.url,
          AUTH0_AUDIENCE: AUDIENCE,
          CURSOR_SECRET: 'bench-cursor-secret-bench-cursor-secret',
          LOG_PRETTY: 'false',
        }, dir, 'ours-defaults')
      : undefined;
    const reference = await startProcess(children, 'reference', ['--import', 'tsx', 'bench/reference-server.ts'], {
      DATABASE_URL: databaseUrl,
      ISSUER: issuer.url,
      AUDIENCE,
    }, dir);

    const machine = await issuer.dev.sign({ kind: 'machine', scopes: ['create:users'] });
    const userTokens = await Promise.all(Array.from({ length: Math.min(USERS, 2000) }, (_, i) => issuer.dev.sign({ kind: 'user', sub: `bench|${i + 2}` })));
    const heavyToken = await issuer.dev.sign({ kind: 'user', sub: 'bench|1' });

    const results: ScenarioResult[] = [];
    let storm = 0;
    const scenarios: Array<[number, string, (target: Target) => autocannon.Request]> = [
      [1, 'first-login storm (addUser, new users, M2M token)', (target) => addUserRequest(machine, () => `bench-storm-${target.name}|${(storm += 1)}`)],
      [2, 'returning logins (addUser, existing users)', () => addUserRequest(machine, rotating(USERS, (i) => `bench|${i + 1}`))],
      [3, `transactions page (first ${PAGE_SIZE}, ${Math.min(USERS, 2000)} users' tokens)`, () => pageRequest(rotating(userTokens.length, (i) => userTokens[i]!), () => null)],
    ];
    if (wanted.has(4)) {
      step(`walking ${DEEP_PAGES} pages to find the deep cursor`);
      const oursCursor = await walkPages(ours.url, heavyToken, DEEP_PAGES);
      const referenceCursor = await walkPages(reference.url, heavyToken, DEEP_PAGES);
      scenarios.push([4, `deep page (page ${DEEP_PAGES + 1} of one user's ${HEAVY} transactions)`, (target) => pageRequest(() => heavyToken, () => (target.name === 'ours' ? oursCursor : referenceCursor))]);
    }
    scenarios.push([5, 'me (the cheapest authenticated request)', () => meRequest(rotating(userTokens.length, (i) => userTokens[i]!))]);

    for (const [number, name, request] of scenarios) {
      if (!wanted.has(number)) continue;
      step(`scenario ${number}: ${name}`);
      // Alternate which server goes first, so neither always meets a warmer machine.
      const order: Target[] = number % 2 === 1 ? [ours, reference] : [reference, ours];
      const measured: Partial<Record<Target['name'], Measurement>> = {};
      for (const target of order) {
        await verify(target, request(target));
        await load(target, request(target), Math.min(2, DURATION));
        measured[target.name] = await load(target, request(target), DURATION);
      }
      const result: ScenarioResult = { name: `${number}. ${name}`, ours: measured.ours!, reference: measured.reference!, ratioRps: 0, ratioP99: 0 };
      result.ratioRps = round(result.ours.requestsPerSecond / result.reference.requestsPerSecond);
      result.ratioP99 = round(result.ours.p99 / Math.max(result.reference.p99, 0.001));
      if (result.ours.cpuMicrosPerRequest && result.reference.cpuMicrosPerRequest) result.ratioCpu = round(result.ours.cpuMicrosPerRequest / result.reference.cpuMicrosPerRequest);
      results.push(result);
      printResult(result);
    }

    const importResults: ImportBenchResult[] = [];
    if (wanted.has(6)) {
      const importUsersCount = smoke ? 20_000 : Number(flags['import-users']);
      for (const shape of EXPORT_SHAPES) {
        step(`scenario 6: import an Auth0 users export of ${importUsersCount} users, ${shape} shape (gzipped NDJSON), then again`);
        const result = await benchImport({ adminConnectionString: postgres.adminConnectionString, users: importUsersCount, dir, shape, logger: log });
        importResults.push(result);
        process.stdout.write(`  ${result.users} users in ${result.seconds} s (${result.perSecond}/s), re-run ${result.rerunSeconds} s, file ${Math.round(result.fileBytes / 1e6)} MB, peak RSS of the importing process ${result.peakRssMb} MB, load ${result.load.join(' -> ')}\n`);
      }
    }

    const stormResults: StormResult[] = [];
    if (oursDefaults) {
      const secrets = { AUTH0_DOMAIN: issuer.url, CLIENT_ID: issuer.dev.client.id, CLIENT_SECRET: issuer.dev.client.secret, API_AUDIENCE: AUDIENCE };
      const runId = Date.now().toString(36);
      for (const [index, rate] of STORM_RATES.entries()) {
        step(`scenario 7: first logins through the Post Login Action, ${rate}/s for ${STORM_SECONDS} s, one address, default configuration`);
        const order = index % 2 === 0 ? [oursDefaults, reference] : [reference, oursDefaults];
        for (const target of order) {
          const stormTarget = { name: target.name, url: `${target.url}/graphql`, pid: target.pid };
          // A short unmeasured run first, as for the other scenarios: pools open, code gets compiled.
          await loginStorm(stormTarget, secrets, rate, Math.min(2, STORM_SECONDS), `${runId}-warm`);
          const result = await loginStorm(stormTarget, secrets, rate, STORM_SECONDS, runId);
          stormResults.push(result);
          printStorm(result);
        }
      }
    }

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg(), node: process.version },
      settings: { duration: DURATION, connections: CONNECTIONS, users: USERS, transactions: TRANSACTIONS, deepPages: DEEP_PAGES, smoke },
      results,
      storm: stormResults,
      import: importResults,
    };
    const out = flags.out ?? path.join(ROOT, 'bench', 'results', `${report.date.replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    step(`results written to ${path.relative(ROOT, out)}`);
    const failed = results.filter((result) => result.ours.errors + result.ours.non2xx + result.reference.errors + result.reference.non2xx > 0);
    if (failed.length > 0) throw new Error(`requests failed in: ${failed.map((result) => result.name).join('; ')}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    issuerServer?.close();
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function seed(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO users (auth0_id, email, email_verified, connection, logins_count)
      SELECT 'bench|' || g, 'user' || g || '@example.com', true, 'google-oauth2', 1 FROM generate_series(1, $1::int) g`, [USERS]);
    const perUser = Math.max(0, Math.floor((TRANSACTIONS - HEAVY) / Math.max(1, USERS - 1)));
    await client.query(`INSERT INTO transactions (user_id, amount_minor, currency, description, occurred_at)
      SELECT u.id, ((g * 7919) % 20000) - 10000, CASE WHEN g % 5 = 0 THEN 'USD' ELSE 'EUR' END, 'bench',
             timestamptz '2026-11-01' - (g || ' minutes')::interval
        FROM users u CROSS JOIN LATERAL generate_series(1, CASE WHEN u.auth0_id = 'bench|1' THEN $1::int ELSE $2::int END) g`, [HEAVY, perUser]);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function startIssuer(): Promise<{ url: string; dev: DevIssuer; server: Server }> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const dev = await createDevIssuer({ issuer: url, audience: AUDIENCE, state: await createDevIssuerState() });
  app.use(dev.router);
  return { url, dev, server };
}

async function startProcess(children: ChildProcess[], name: Target['name'], args: string[], env: Record<string, string>, logDir: string, logName: string = name): Promise<Target> {
  const port = await freePort();
  // Output goes to a file, as it would to a log shipper: a pipe read by this busy load generator
  // would block the server's synchronous log writes and measure the bench, not the server.
  const logFile = path.join(logDir, `${logName}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${name} server exited:\n${fs.readFileSync(logFile, 'utf8')}`);
    const ready = await fetch(`${url}/graphql`, { method: 'POST' }).then((response) => response.status, () => 0);
    if (ready === 401) return { name, url, pid: child.pid };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} server did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
}

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id auth0Id email } } }';
const PAGE = 'query Page($first: Int, $after: String) { me { transactions(first: $first, after: $after) { edges { cursor node { id amountMinor currency occurredAt } } pageInfo { hasNextPage endCursor } } } }';
const ME = 'query Me { me { id auth0Id email } }';

function rotating<T>(size: number, pick: (index: number) => T): () => T {
  let next = 0;
  return () => pick((next = (next + 1) % size));
}

function graphqlRequest(token: () => string, body: () => object): autocannon.Request {
  return {
    method: 'POST',
    path: '/graphql',
    setupRequest: (request) => ({
      ...request,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
      body: JSON.stringify(body()),
    }),
  };
}

function addUserRequest(token: string, auth0Id: () => string): autocannon.Request {
  return graphqlRequest(
    () => token,
    () => {
      const id = auth0Id();
      return {
        operationName: 'AddUser',
        query: ADD_USER,
        variables: { input: { auth0Id: id, email: `${id.replace(/\W/g, '')}@example.com`, emailVerified: true, name: 'Bench User', connection: 'google-oauth2', loginsCount: 1 } },
      };
    },
  );
}

function pageRequest(token: () => string, after: () => string | null): autocannon.Request {
  return graphqlRequest(token, () => ({ operationName: 'Page', query: PAGE, variables: { first: PAGE_SIZE, after: after() } }));
}

function meRequest(token: () => string): autocannon.Request {
  return graphqlRequest(token, () => ({ operationName: 'Me', query: ME }));
}

async function walkPages(url: string, token: string, pages: number): Promise<string> {
  let after: string | null = null;
  for (let page = 0; page < pages; page += 1) {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ operationName: 'Page', query: PAGE, variables: { first: PAGE_SIZE, after } }),
    });
    const body = (await response.json()) as { data?: { me: { transactions: { pageInfo: { endCursor: string | null } } } } };
    after = body.data?.me.transactions.pageInfo.endCursor ?? null;
    if (!after) throw new Error(`page ${page + 1} had no cursor: ${JSON.stringify(body)}`);
  }
  return after!;
}

/** One request first: a GraphQL error answers 200, so autocannon alone would count it as a success. */
async function verify(target: Target, request: autocannon.Request): Promise<void> {
  const setup = request.setupRequest as ((request: autocannon.Request, context: object) => autocannon.Request) | undefined;
  const prepared = setup?.({ method: 'POST', path: '/graphql' }, {}) as { headers: Record<string, string>; body: string };
  const response = await fetch(`${target.url}/graphql`, { method: 'POST', headers: prepared.headers, body: prepared.body });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  if (response.status !== 200 || body.errors || !body.data) throw new Error(`${target.name} answered ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
}

async function load(target: Target, request: autocannon.Request, seconds: number): Promise<Measurement> {
  const cpuBefore = target.pid ? cpuSeconds(target.pid) : undefined;
  const result = await autocannon({ url: target.url, connections: CONNECTIONS, duration: seconds, requests: [request] });
  const cpuAfter = target.pid ? cpuSeconds(target.pid) : undefined;
  return {
    cpuMicrosPerRequest: cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0 ? Math.round(((cpuAfter - cpuBefore) * 1e6) / result.requests.total) : undefined,
    requestsPerSecond: round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function step(message: string): void {
  process.stdout.write(`\n> ${message}\n`);
}

function printResult(result: ScenarioResult): void {
  const row = (label: string, m: Measurement) =>
    `  ${label.padEnd(10)} ${String(m.requestsPerSecond).padStart(9)} req/s   p50 ${String(m.p50).padStart(5)} ms   p99 ${String(m.p99).padStart(5)} ms   CPU ${m.cpuMicrosPerRequest ?? '?'} µs/req   errors ${m.errors + m.non2xx}`;
  process.stdout.write(`${row('ours', result.ours)}\n${row('reference', result.reference)}\n  ratio ours/reference: ${result.ratioRps} of the req/s, ${result.ratioP99}x the p99, ${result.ratioCpu ?? '?'}x the CPU per request   (load ${os.loadavg()[0]!.toFixed(1)})\n`);
}

function printStorm(result: StormResult): void {
  process.stdout.write(
    `  ${result.target.padEnd(10)} ${result.logins} logins   provisioned ${result.provisionedPercent}%   Action p50 ${result.p50} ms   p99 ${result.p99} ms   max ${result.max} ms   429s ${result.status429}   503s ${result.status503}   failed ${result.failed}   server CPU ${result.serverCpuPercent ?? '?'}% of a core   load ${result.loadAverage}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
