// Start-up only: load config, open the database, migrate, listen, and shut down cleanly on a signal.
import type { Server } from 'node:http';
import { createApp } from './app';
import { createDevIssuer, loadOrCreateDevIssuerState, type DevIssuer } from './auth/dev-issuer';
import { publishRunningDevServer } from './auth/running-dev-server';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/database';
import { createPrismaClient } from './db/prisma';
import { DatabaseReadiness } from './db/readiness';
import { createLogger } from './logger';

const SHUTDOWN_GRACE_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log);
  const database = await openDatabase(config.database, logger);
  let stopping = false;
  let server: Server | undefined;
  let withdrawPublication = () => {};
  const prisma = createPrismaClient({
    connectionString: database.connectionString,
    poolSize: config.database.poolSize,
    statementTimeoutMs: config.database.statementTimeoutMs,
    poolTimeoutMs: config.database.poolTimeoutMs,
    logger,
  });
  // The server listens at once; /readyz says when the database has been reached and migrated.
  const readiness = new DatabaseReadiness({
    connectionString: database.connectionString,
    logger,
    maxDelayMs: config.database.retryMaxMs,
    onFatal: (error) => {
      logger.fatal(error.message);
      void shutdown('migration failed', 1);
    },
  });
  const devIssuer = config.auth.mode === 'dev' ? await startDevIssuer(config) : undefined;
  const { app, apollo } = await createApp({ config, prisma, logger, devIssuer, readiness });

  const listening = app.listen(config.http.port, config.http.host ?? '::');
  server = listening;
  await new Promise<void>((resolve, reject) => listening.once('listening', resolve).once('error', reject));
  logger.info({ port: config.http.port, database: database.kind, auth: config.auth.mode }, `listening on port ${config.http.port}`);
  if (devIssuer) {
    printDevIssuerBanner(config, devIssuer);
    withdrawPublication = publishRunningDevServer(config.auth.devIssuerDir, {
      port: config.http.port,
      issuer: devIssuer.issuer,
      graphqlUrl: `http://localhost:${config.http.port}/graphql`,
    });
  }
  void readiness.done.then(() => {
    if (readiness.isReady()) logger.info(`GraphQL API ready at http://localhost:${config.http.port}/graphql`);
  });

  async function shutdown(signal: string, exitCode = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    readiness.stop();
    withdrawPublication();
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeIdleConnections();
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const force = setTimeout(() => {
      logger.error('requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    await closed;
    await apollo.stop();
    await prisma.$disconnect();
    await database.close();
    logger.info('stopped');
    process.exit(exitCode);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function startDevIssuer(config: Config): Promise<DevIssuer> {
  const state = await loadOrCreateDevIssuerState(config.auth.devIssuerDir);
  return createDevIssuer({ issuer: config.auth.issuer, audience: config.auth.audience, state });
}

// The dev client's credentials are local-only (they unlock nothing but this server's own issuer);
// they go to the terminal, not into the JSON logs.
function printDevIssuerBanner(config: Config, devIssuer: DevIssuer): void {
  process.stdout.write(
    [
      '',
      'Local development issuer (no AUTH0_DOMAIN set; never served in production):',
      `  issuer         ${devIssuer.issuer}`,
      `  audience       ${devIssuer.audience}`,
      `  token endpoint ${new URL('oauth/token', devIssuer.issuer).toString()}`,
      `  client_id      ${devIssuer.client.id}`,
      `  client_secret  ${devIssuer.client.secret}`,
      `  Mint a token:  npm run token -- --machine   |   npm run token -- --user 'google-oauth2|123'`,
      `  (keys kept in ${config.auth.devIssuerDir})`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every setting.\n`);
  } else {
    process.stderr.write(`Failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  }
  process.exit(1);
});
