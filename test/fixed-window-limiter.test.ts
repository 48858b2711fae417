// The per-subject and per-address limits: fixed windows with express-rate-limit's draft-8 headers, 429 and Retry-After past the budget.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { fixedWindowLimiter } from '../src/http/fixed-window-limiter';

let server: Server;
let url: string;
let clock = 1_000_000;

beforeAll(async () => {
  const app = express();
  app.use(
    fixedWindowLimiter({
      windowMs: 60_000,
      limit: (req) => (req.headers['x-kind'] === 'machine' ? 3 : 2),
      key: (req) => String(req.headers['x-key']),
      refuse: (_req, res) => void res.status(429).json({ refused: true }),
      now: () => clock,
    }),
  );
  app.get('/', (_req, res) => void res.json({ ok: true }));
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function get(key: string, kind = 'user') {
  const response = await fetch(url, { headers: { 'x-key': key, 'x-kind': kind } });
  await response.arrayBuffer();
  return { status: response.status, policy: response.headers.get('ratelimit-policy'), rateLimit: response.headers.get('ratelimit'), retryAfter: response.headers.get('retry-after') };
}

it('counts each key in its window, says what is left, and refuses past the budget with 429 and Retry-After', async () => {
  const first = await get('a');
  expect(first.status).toBe(200);
  expect(first.policy).toMatch(/^"2-in-1min"; q=2; w=60; pk=:[A-Za-z0-9+/=]+:$/);
  expect(first.rateLimit).toBe('"2-in-1min"; r=1; t=60');
  clock += 15_000;
  expect(await get('a')).toMatchObject({ status: 200, rateLimit: '"2-in-1min"; r=0; t=45', retryAfter: null });
  expect(await get('a')).toMatchObject({ status: 429, rateLimit: '"2-in-1min"; r=0; t=45', retryAfter: '45' });
  // Another key has its own window and budget.
  expect(await get('b', 'machine')).toMatchObject({ status: 200, rateLimit: '"3-in-1min"; r=2; t=60' });
});

it('opens a fresh window once the last one has ended, with the same partition key', async () => {
  const before = await get('c');
  await get('c');
  expect((await get('c')).status).toBe(429);
  clock += 60_000;
  const after = await get('c');
  expect(after).toMatchObject({ status: 200, rateLimit: '"2-in-1min"; r=1; t=60' });
  expect(after.policy).toBe(before.policy);
  expect((await get('d')).policy).not.toBe(before.policy);
});
