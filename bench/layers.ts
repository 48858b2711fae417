// Per-layer costs in one process, serially and in turns: each lever's layer before and after, on a tiny Express route.
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import os from 'node:os';
import express, { type RequestHandler } from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import { createDevIssuer, createDevIssuerState } from '../src/auth/dev-issuer';
import { requireToken } from '../src/auth/require-token';
import { loadConfig } from '../src/config';
import { rateLimit } from 'express-rate-limit';
import { limitPerSubject } from '../src/http/rate-limits';
import { logRequests } from '../src/http/request-log';

const CALLS = Number(process.argv[2] ?? 2000);
const ROUNDS = 5;
const AUDIENCE = 'https://bench.example/api';

async function listen(app: express.Express): Promise<string> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
}

async function main(): Promise<void> {
  const issuerApp = express();
  const issuerUrl = (await listen(issuerApp)).replace(/x$/, '');
  const issuer = await createDevIssuer({ issuer: issuerUrl, audience: AUDIENCE, state: await createDevIssuerState() });
  issuerApp.use(issuer.router);
  const token = await issuer.sign({ kind: 'machine', scopes: ['create:users'] });
  const config = (cacheEntries: string) => loadConfig({ NODE_ENV: 'test', AUTH0_ISSUER_BASE_URL: issuerUrl, AUTH0_AUDIENCE: AUDIENCE, VERIFIED_TOKEN_CACHE_ENTRIES: cacheEntries }).auth;
  const devNull = (sync: boolean) => pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync }));
  const body = JSON.stringify({ data: { addUser: { created: true, user: { id: '0196f0c4-7c2e-7d4a-9a8e-3f1b2c3d4e5f', auth0Id: 'google-oauth2|1234567890', email: 'someone@example.com' } } } });

  const route = (middleware: RequestHandler[], etag = false) => {
    const app = express();
    app.set('etag', etag);
    app.post('/x', ...middleware, (_req, res) => {
      res.type('application/json').send(body);
    });
    return listen(app);
  };
  // A verified token as the limiters find it, without the cost of verifying.
  const verified: RequestHandler = (req, _res, next) => {
    req.auth = { payload: { sub: 'client@clients', gty: 'client-credentials' }, header: { alg: 'RS256' }, token };
    next();
  };
  const layers: Array<[string, string]> = [
    ['verified token stub only', await route([verified])],
    ['bare route (no ETag)', await route([])],
    ['bare route with ETag', await route([], true)],
    ['express-oauth2-jwt-bearer auth()', await route([auth({ issuer: issuerUrl, jwksUri: `${issuerUrl}.well-known/jwks.json`, audience: AUDIENCE, tokenSigningAlg: 'RS256', authRequired: true, dpop: { enabled: false } })])],
    ['requireToken, cache off', await route([requireToken(config('0'))])],
    ['requireToken, cache on', await route([requireToken(config('10000'))])],
    ['two limiters (per IP, then per subject)', await route([verified, rateLimit({ windowMs: 60_000, limit: 1e9, standardHeaders: 'draft-8', legacyHeaders: false }), rateLimit({ windowMs: 60_000, limit: 1e9, keyGenerator: (req) => `sub:${String(req.auth?.payload.sub)}`, standardHeaders: 'draft-8', legacyHeaders: false })])],
    ['express-rate-limit, per subject', await route([verified, rateLimit({ windowMs: 60_000, limit: 1e9, keyGenerator: (req) => `sub:${String(req.auth?.payload.sub)}`, standardHeaders: 'draft-8', legacyHeaders: false })])],
    ['fixedWindowLimiter, per subject', await route([verified, limitPerSubject({ windowMs: 60_000, perIp: 1e9, perUser: 1e9, perMachine: 1e9 })])],
    ['pino-http, sync destination', await route([pinoHttp({ logger: devNull(true), serializers: { req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }), res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) } })])],
    ['logRequests, async destination', await route([logRequests(devNull(false))])],
    ['logRequests, batched async (as now)', await route([logRequests(pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false, minLength: 4096, periodicFlush: 250 })))])],
  ];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (url: string) =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': 2 } }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`${url} answered ${response.statusCode}`))));
      });
      request.on('error', reject);
      request.end('{}');
    });
  const costs = new Map<string, number[]>(layers.map(([name]) => [name, []]));
  for (const [, url] of layers) for (let i = 0; i < 300; i += 1) await call(url);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, url] of round % 2 === 0 ? layers : [...layers].reverse()) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < CALLS; i += 1) await call(url);
      const used = process.cpuUsage(cpu);
      costs.get(name)!.push((used.user + used.system) / CALLS);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const bare = median(costs.get('bare route (no ETag)')!);
  for (const [name, values] of costs) {
    process.stdout.write(`${name.padEnd(36)} CPU per request (client and server): median ${Math.round(median(values))} µs, +${Math.round(median(values) - bare)} over the bare route (${values.map(Math.round).join(' ')})\n`);
  }
  process.stdout.write(`load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
