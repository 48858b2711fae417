// A stand-in for an Auth0 tenant on loopback: JWKS and /oauth/token over real HTTP, counting JWKS fetches and token requests.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createDevIssuer, createDevIssuerState, type DevIssuer, type DevIssuerState } from '../../src/auth/dev-issuer';

export const TEST_AUDIENCE = 'https://api.test.example/';

export interface TestIssuer {
  url: string;
  issuer: DevIssuer;
  state: DevIssuerState;
  /** How many times the JWKS has been fetched. */
  jwksFetches(): number;
  /** How many client-credentials requests /oauth/token has received (each one counts against Auth0's M2M token quota). */
  tokenRequests(): number;
  close(): Promise<void>;
}

export async function startTestIssuer(options: { audience?: string } = {}): Promise<TestIssuer> {
  const state = await createDevIssuerState();
  const app = express();
  let jwksFetches = 0;
  let tokenRequests = 0;
  app.use('/.well-known/jwks.json', (_req, _res, next) => {
    jwksFetches += 1;
    next();
  });
  app.use('/oauth/token', (_req, _res, next) => {
    tokenRequests += 1;
    next();
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const issuer = await createDevIssuer({ issuer: url, audience: options.audience ?? TEST_AUDIENCE, state });
  app.use(issuer.router);
  return {
    url,
    issuer,
    state,
    jwksFetches: () => jwksFetches,
    tokenRequests: () => tokenRequests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
