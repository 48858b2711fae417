// `npm run bench:ab -- <dir A> <dir B>`: two checkouts of our server, measured in turns in one run, for one lever's before/after.
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
import { createDevIssuer, createDevIssuerState } from '../src/auth/dev-issuer';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { applyMigrations } from '../src/db/migrate';
import { freePort } from '../test/support/free-port';
import { cpuSeconds } from './cpu';

const AUDIENCE = 'https://bench.example/api';
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    scenario: { type: 'string', default: 'addUser' },
    'env-a': { type: 'string', default: '' },
    'env-b': { type: 'string', default: '' },
  },
});
const [dirA, dirB] = positionals.map((dir) => path.resolve(dir));
if (!dirA || !dirB) throw new Error('usage: bench/ab.ts <checkout A> <checkout B> [--scenario addUser|me] [--env-a K=V,K=V] [--env-b K=V]');

interface Side {
  label: string;
  url: string;
  pid: number;
  rps: number[];
  cpu: number[];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ab-'));
  fs.chmodSync(dir, 0o777);
  const children: ChildProcess[] = [];
  const postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), logger: pino({ level: 'warn' }) });
  const app = express();
  const issuerServer: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    await applyMigrations({ connectionString: postgres.connectionString, logger: pino({ level: 'warn' }) });
    const client = new Client({ connectionString: postgres.connectionString });
    await client.connect();
    await client.query(`INSERT INTO users (auth0_id, email) SELECT 'bench|' || g, 'u' || g || '@example.com' FROM generate_series(1, 2000) g`);
    await client.end();
    const issuerUrl = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/`;
    const issuer = await createDevIssuer({ issuer: issuerUrl, audience: AUDIENCE, state: await createDevIssuerState() });
    app.use(issuer.router);
    const env = (extra = '') => ({
      NODE_ENV: 'production',
      DATABASE_URL: postgres.connectionString,
      AUTH0_ISSUER_BASE_URL: issuerUrl,
      AUTH0_AUDIENCE: AUDIENCE,
      CURSOR_SECRET: 'bench-cursor-secret-bench-cursor-secret',
      RATE_LIMIT_PER_IP: '100000000',
      RATE_LIMIT_PER_USER: '100000000',
      RATE_LIMIT_PER_MACHINE: '100000000',
      LOG_PRETTY: 'false',
      ...Object.fromEntries(extra.split(',').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    });
    const sides = [await start(children, 'A', dirA!, env(flags['env-a']), dir), await start(children, 'B', dirB!, env(flags['env-b']), dir)];
    const machine = await issuer.sign({ kind: 'machine', scopes: ['create:users'] });
    const users = await Promise.all(Array.from({ length: 2000 }, (_, i) => issuer.sign({ kind: 'user', sub: `bench|${i + 1}` })));
    let n = 0;
    let u = 0;
    const request = (): autocannon.Request => ({
      method: 'POST',
      path: '/graphql',
      setupRequest: (req) => {
        if (flags.scenario === 'me') {
          u = (u + 1) % users.length;
          return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${users[u]}` }, body: JSON.stringify({ query: 'query Me { me { id auth0Id email } }' }) };
        }
        n += 1;
        const id = `ab|${process.pid}-${n}`;
        return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${machine}` }, body: JSON.stringify({ query: 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id auth0Id email } } }', variables: { input: { auth0Id: id, email: `${n}@example.com`, emailVerified: true, name: 'AB', connection: 'google-oauth2', loginsCount: 1 } } }) };
      },
    });
    for (const side of sides) await autocannon({ url: side.url, connections: Number(flags.connections), duration: 2, requests: [request()] });
    for (let round = 0; round < Number(flags.rounds); round += 1) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const before = cpuSeconds(side.pid)!;
        const result = await autocannon({ url: side.url, connections: Number(flags.connections), duration: Number(flags.seconds), requests: [request()] });
        const cpu = cpuSeconds(side.pid)! - before;
        if (result.non2xx + result.errors > 0) throw new Error(`${side.label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        side.rps.push(result.requests.average);
        side.cpu.push((cpu * 1e6) / result.requests.total);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    for (const side of sides) process.stdout.write(`${side.label} ${side.label === 'A' ? dirA : dirB}: req/s ${side.rps.map(Math.round).join(' ')} (median ${Math.round(median(side.rps))}); CPU µs/req ${side.cpu.map(Math.round).join(' ')} (median ${Math.round(median(side.cpu))})\n`);
    process.stdout.write(`B/A: ${(median(sides[1]!.rps) / median(sides[0]!.rps)).toFixed(2)} of the req/s, ${(median(sides[1]!.cpu) / median(sides[0]!.cpu)).toFixed(2)} of the CPU per request; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    issuerServer.close();
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function start(children: ChildProcess[], label: string, root: string, env: Record<string, string>, logDir: string): Promise<Side> {
  const port = await freePort();
  const out = fs.openSync(path.join(logDir, `${label}.log`), 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if ((await fetch(`${url}/graphql`, { method: 'POST' }).then((response) => response.status, () => 0)) === 401) return { label, url, pid: child.pid!, rps: [], cpu: [] };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${label} did not start: ${fs.readFileSync(path.join(logDir, `${label}.log`), 'utf8')}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
