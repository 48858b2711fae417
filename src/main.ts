// Start-up only: load config, open the database, migrate, listen, and shut down cleanly on a signal.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from './app';
import { createDevIssuer, loadOrCreateDevIssuerState, type DevIssuer } from './auth/dev-issuer';
import { devManagementAudience } from './auth/dev-management-api';
import { findRunningDevServer, publishRunningDevServer } from './auth/running-dev-server';
import { ConfigError, loadConfig, type Config } from './config';
import { openDatabase } from './db/database';
import { EmbeddedPostgresError } from './db/embedded-postgres';
import { createDatabaseClients, type PrismaClient } from './db/prisma';
import { DatabaseReadiness } from './db/readiness';
import { envFilesRead } from './env-files';
import { createHttpServer } from './http/http-server';
import { createLogger } from './logger';
import { countPendingSqlChanges } from './modules/users/pending-sql-changes';
import { UserChangesPusher } from './modules/users/user-changes-pusher';
import { processShutdown } from './shutdown';

const SHUTDOWN_GRACE_MS = 15_000;

// The signal handlers come first: a signal at any moment of start-up stops what has started so far.
const shutdown = processShutdown.install({ exitCodeOnSignal: () => 0, graceMs: SHUTDOWN_GRACE_MS });

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log);
  shutdown.useLogger(logger);
  for (const { file, applied, overridden } of envFilesRead) {
    logger.info({ file, applied, overridden }, `settings read from ${file}: ${applied.join(', ') || 'none'}${overridden.length ? ` (already set, so not from ${file}: ${overridden.join(', ')})` : ''}`);
  }
  // Registers the embedded Postgres' stop itself, before spawning it.
  const database = await openDatabase(config.database, logger);
  const { prisma, sql, close: closeDatabaseClients } = createDatabaseClients({
    connectionString: database.connectionString,
    poolSize: config.database.poolSize,
    preparedStatements: config.database.preparedStatements,
    statementTimeoutMs: config.database.statementTimeoutMs,
    poolTimeoutMs: config.database.poolTimeoutMs,
    logger,
  });
  shutdown.add('database pool', closeDatabaseClients);
  // The server listens at once; /readyz says when the database has been reached and migrated.
  const readiness = new DatabaseReadiness({
    connectionString: database.connectionString,
    logger,
    maxDelayMs: config.database.retryMaxMs,
    onFatal: (error) => {
      logger.fatal(error.message);
      void shutdown.stop('migration failed', 1);
    },
  });
  // Stops retrying, and lets a migration under way finish before the database goes.
  shutdown.add('readiness', () => {
    readiness.stop();
    return readiness.done;
  });
  const devIssuer = config.auth.mode === 'dev' ? await startDevIssuer(config) : undefined;
  const { app, apollo, services } = await createApp({ config, prisma, sql, logger, devIssuer, readiness });
  shutdown.add('apollo', () => apollo.stop());
  if (!services.auth0Users) reportWriteBackOff(config, prisma, readiness, logger);
  // Sends the app's SQL changes to users to Auth0 (and converges unsettled write-backs), once the database is ready.
  if (config.writeBack && services.auth0Users) {
    const { writeBack } = config;
    const auth0Users = services.auth0Users;
    let pusher: { stop(): Promise<void> } | undefined;
    let stopped = false;
    shutdown.add('users push', async () => {
      stopped = true;
      await pusher?.stop();
    });
    void readiness.done.then(() => {
      if (!readiness.isReady() || stopped) return;
      pusher = new UserChangesPusher(prisma, auth0Users, {
        convergeAfterMs: writeBack.convergeAfterMs,
        auth0TimeoutMs: writeBack.management.timeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
        logger: logger.child({ module: 'users-push' }),
      }).start(writeBack.pushIntervalMs);
    });
  }

  const server = createHttpServer(app, config.http).listen(config.http.port, config.http.host ?? '::');
  shutdown.add('http server', () => drain(server, logger));
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', (error) => reject(listenError(error, config))));
  logger.info({ port: config.http.port, database: database.kind, auth: config.auth.mode }, `listening on port ${config.http.port}`);
  if (devIssuer) {
    printDevIssuerBanner(config, devIssuer);
    const withdrawPublication = publishRunningDevServer(config.auth.devIssuerDir, {
      port: config.http.port,
      issuer: devIssuer.issuer,
      graphqlUrl: `http://localhost:${config.http.port}/graphql`,
    });
    shutdown.add('dev server publication', withdrawPublication);
  }
  void readiness.done.then(() => {
    if (readiness.isReady()) logger.info(`GraphQL API ready at http://localhost:${config.http.port}/graphql`);
  });
}

/** Thrown when the server cannot listen for a reason the user can fix; said in one line, without a stack. */
class ListenError extends Error {}

function listenError(error: NodeJS.ErrnoException, config: Config): Error {
  if (error.code !== 'EADDRINUSE') return error;
  const { port } = config.http;
  // Ours when a server of this checkout published itself on that port (npm start without AUTH0_DOMAIN).
  const ours = findRunningDevServer(config.auth.devIssuerDir, port);
  const holder = ours ? `, by process ${ours.pid}: a server of ours (${ours.graphqlUrl})` : ' by another process';
  return new ListenError(`Port ${port} is already in use${holder}. Stop it, or set PORT to another port (PORT=${port + 1} npm start).`);
}

// Without the Management API, updateUser/updateMe/deleteUser are refused and SQL changes to users
// wait in user_changes unsent: said once at start-up, and again with the count once the database answers.
function reportWriteBackOff(config: Config, prisma: PrismaClient, readiness: DatabaseReadiness, logger: Logger): void {
  const missingSettings = config.writeBackMissingSettings;
  const log = logger.child({ module: 'write-back' });
  log.warn({ missingSettings }, `write-back to Auth0 is off: set ${missingSettings.join(', ')} to change users from the app`);
  void readiness.done.then(async () => {
    if (!readiness.isReady()) return;
    const pendingSqlChanges = await countPendingSqlChanges(prisma).catch(() => undefined);
    if (pendingSqlChanges) log.warn({ pendingSqlChanges }, `${pendingSqlChanges} SQL change(s) to users wait in user_changes as pending; none is sent to Auth0 while write-back is off`);
  });
}

// No new connections; requests in flight finish (the shutdown's grace period bounds them).
function drain(server: Server, logger: Logger): Promise<void> {
  if (!server.listening) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  logger.info('shutting down: no new connections, finishing requests in flight');
  return closed;
}

async function startDevIssuer(config: Config): Promise<DevIssuer> {
  const state = await loadOrCreateDevIssuerState(config.auth.devIssuerDir);
  return createDevIssuer({ issuer: config.auth.issuer, audience: config.auth.audience, state, managementAudience: devManagementAudience(config) });
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
      ...(config.writeBack?.devTenantFile
        ? [`  Management API ${new URL('api/v2/users/', devIssuer.issuer).toString()} (write-back to the simulated tenant in ${config.writeBack.devTenantFile})`]
        : []),
      `  (keys kept in ${config.auth.devIssuerDir})`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  // A signal during start-up makes what was starting fail; the shutdown under way reports and exits.
  if (shutdown.stopping) return;
  if (error instanceof ConfigError) {
    const fromFiles = envFilesRead.filter(({ applied }) => applied.length > 0).map(({ file, applied }) => `${file} (${applied.join(', ')})`);
    const source = fromFiles.length > 0 ? `Settings read from ${fromFiles.join(' and ')}; the environment wins over them.\n` : '';
    process.stderr.write(`${error.message}\n${source}See .env.example for every setting.\n`);
  } else if (error instanceof EmbeddedPostgresError || error instanceof ListenError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  }
  void shutdown.stop('start-up failed', 1);
});
