// Starts the real app on loopback for a test file: its own database, a stand-in issuer, captured logs.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import supertest from 'supertest';
import type { ApolloServer } from '@apollo/server';
import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { GraphQLContext } from '../../src/context';
import type { SqlClient } from '../../src/db/sql';
import { createDatabaseClients, type DatabaseClients, type PrismaClient } from '../../src/db/prisma';
import { createHttpServer } from '../../src/http/http-server';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './database';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from './issuer';

export interface TestServer {
  url: string;
  graphqlUrl: string;
  config: Config;
  prisma: PrismaClient;
  /** The hot paths' SQL client, on the app's pool. */
  sql: SqlClient;
  database: TestDatabase;
  issuer: TestIssuer;
  logs: string[];
  /** The SQL of every query the app has sent, in order. */
  queries: string[];
  request(): supertest.Agent;
  machineToken(scopes?: string[]): Promise<string>;
  userToken(sub: string, extraClaims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra environment for loadConfig, e.g. { AUTH0_CREATE_USERS_SCOPE: 'provision:users' }. */
  env?: Record<string, string>;
  /** Reuse a database (e.g. two servers on one database). */
  database?: TestDatabase;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const issuer = await startTestIssuer();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '10',
    AUTH0_ISSUER_BASE_URL: issuer.url,
    AUTH0_AUDIENCE: TEST_AUDIENCE,
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    ...options.env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.log, { write: (line: string) => void logs.push(line) });
  const queries: string[] = [];
  const clients = createDatabaseClients({
    connectionString: database.url,
    poolSize: config.database.poolSize,
    preparedStatements: config.database.preparedStatements,
    statementTimeoutMs: config.database.statementTimeoutMs,
    poolTimeoutMs: config.database.poolTimeoutMs,
    logger,
    onQuery: (sql) => void queries.push(sql),
  });
  const { prisma, sql } = clients;
  const { app, apollo } = await createApp({ config, prisma, sql, logger });
  const server: Server = await new Promise((resolve) => {
    // Built as main.ts builds it, with the same timeouts.
    const listening = createHttpServer(app, config.http).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    config,
    prisma,
    sql,
    database,
    issuer,
    logs,
    queries,
    request: () => supertest.agent(url),
    machineToken: (scopes = ['create:users']) => issuer.issuer.sign({ kind: 'machine', scopes }),
    userToken: (sub, extraClaims) => issuer.issuer.sign({ kind: 'user', sub, extraClaims }),
    close: () => closeAll(server, apollo, clients, issuer, options.database ? undefined : database),
  };
}

async function closeAll(server: Server, apollo: ApolloServer<GraphQLContext>, clients: DatabaseClients, issuer: TestIssuer, database?: TestDatabase) {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await apollo.stop();
  await clients.close();
  await issuer.close();
  await database?.drop();
}
