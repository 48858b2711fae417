// inSequence runs handlers as one router layer with Express's own rules for next(), throws and rejections.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { inSequence } from '../src/http/in-sequence';

let server: Server;
let url: string;
const ran: string[] = [];

const step = (name: string): RequestHandler => (_req, _res, next) => {
  ran.push(name);
  next();
};

beforeAll(async () => {
  const app = express();
  app.use('/passes', inSequence(step('a'), step('b'), (_req, res) => void res.json({ ran })));
  app.use('/falls-through', inSequence(step('a'), step('b')));
  app.use('/falls-through', (_req, res) => void res.status(209).json({ ran }));
  app.use('/next-error', inSequence(step('a'), (_req, _res, next) => next(Object.assign(new Error('refused'), { status: 401 })), step('never')));
  app.use('/throws', inSequence(step('a'), () => {
    throw Object.assign(new Error('thrown'), { status: 400 });
  }, step('never')));
  app.use('/rejects', inSequence(step('a'), async () => {
    throw Object.assign(new Error('rejected'), { status: 403 });
  }, step('never')));
  app.use('/async-next', inSequence(async (_req, _res, next) => {
    await Promise.resolve();
    ran.push('async');
    next();
  }, step('b'), (_req, res) => void res.json({ ran })));
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(error.status ?? 500).json({ error: error.message, ran });
  };
  app.use(onError);
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  ran.length = 0;
});

async function get(path: string): Promise<{ status: number; body: { ran: string[]; error?: string } }> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: (await response.json()) as { ran: string[]; error?: string } };
}

it('runs the handlers in order, each when the one before calls next()', async () => {
  expect(await get('/passes')).toEqual({ status: 200, body: { ran: ['a', 'b'] } });
});

it('goes on to the next layer once every handler called next()', async () => {
  expect(await get('/falls-through')).toEqual({ status: 209, body: { ran: ['a', 'b'] } });
});

it('hands an error passed to next() to the error handlers and skips the rest', async () => {
  expect(await get('/next-error')).toEqual({ status: 401, body: { error: 'refused', ran: ['a'] } });
});

it('hands a thrown error to the error handlers and skips the rest', async () => {
  expect(await get('/throws')).toEqual({ status: 400, body: { error: 'thrown', ran: ['a'] } });
});

it('hands an async handler\'s rejection to the error handlers and skips the rest', async () => {
  expect(await get('/rejects')).toEqual({ status: 403, body: { error: 'rejected', ran: ['a'] } });
});

it('waits for an async handler that calls next() later', async () => {
  expect(await get('/async-next')).toEqual({ status: 200, body: { ran: ['async', 'b'] } });
});
