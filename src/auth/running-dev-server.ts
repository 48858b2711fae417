// Where the local development server runs, published beside its issuer's key so that the CLIs
// (`npm run token`, `npm run login:simulate`) mint for and call that server, whatever PORT they see.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';

const RunningDevServerSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  issuer: z.url(),
  graphqlUrl: z.url(),
});

export type RunningDevServer = z.infer<typeof RunningDevServerSchema>;

const fileIn = (devIssuerDir: string) => path.join(devIssuerDir, 'server.json');

/** Publishes this process as the server of `devIssuerDir`; the returned function withdraws it (only if still ours). */
export function publishRunningDevServer(devIssuerDir: string, server: Omit<RunningDevServer, 'pid'>): () => void {
  const file = fileIn(devIssuerDir);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ pid: process.pid, ...server }));
  fs.renameSync(temporary, file);
  return () => {
    if (readRunningDevServer(devIssuerDir)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
}

/** The server published in `devIssuerDir` if its process is still alive; a file left by a crash is ignored. */
export function findRunningDevServer(devIssuerDir: string): RunningDevServer | undefined {
  const server = readRunningDevServer(devIssuerDir);
  return server && isAlive(server.pid) ? server : undefined;
}

function readRunningDevServer(devIssuerDir: string): RunningDevServer | undefined {
  try {
    const parsed = RunningDevServerSchema.safeParse(JSON.parse(fs.readFileSync(fileIn(devIssuerDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LocalTarget {
  issuer: string;
  graphqlUrl: string;
  /** The server published in the issuer directory, when one runs and PORT does not name another. */
  running?: RunningDevServer;
}

/** What a CLI mints for and calls: the running server of this issuer directory, unless PORT explicitly names another port. */
export function localTarget(config: Config, env: NodeJS.ProcessEnv = process.env): LocalTarget {
  const running = findRunningDevServer(config.auth.devIssuerDir);
  const portGiven = env.PORT !== undefined && env.PORT !== '';
  if (running && (!portGiven || running.port === config.http.port)) return { issuer: running.issuer, graphqlUrl: running.graphqlUrl, running };
  return { issuer: config.auth.issuer, graphqlUrl: `http://localhost:${config.http.port}/graphql` };
}
