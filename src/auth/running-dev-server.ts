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

// One record per server, named by its port (two servers cannot share one): a server stopping
// withdraws its own record only, and the others stay findable.
const serversDir = (devIssuerDir: string) => path.join(devIssuerDir, 'servers');
const fileFor = (devIssuerDir: string, port: number) => path.join(serversDir(devIssuerDir), `${port}.json`);

/** Publishes this process as the server of `devIssuerDir` on its port; the returned function withdraws that record (only if still ours). */
export function publishRunningDevServer(devIssuerDir: string, server: Omit<RunningDevServer, 'pid'>): () => void {
  const file = fileFor(devIssuerDir, server.port);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ pid: process.pid, ...server }));
  fs.renameSync(temporary, file);
  return () => {
    if (readRecord(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
}

/** The servers published in `devIssuerDir` whose process is still alive, newest first; records left by a crash are ignored. */
export function findRunningDevServers(devIssuerDir: string): RunningDevServer[] {
  let names: string[];
  try {
    names = fs.readdirSync(serversDir(devIssuerDir)).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return [];
  }
  return names
    .map((name) => path.join(serversDir(devIssuerDir), name))
    .map((file) => ({ record: readRecord(file), writtenAt: modifiedAt(file) }))
    .filter((found): found is { record: RunningDevServer; writtenAt: number } => found.record !== undefined && isAlive(found.record.pid))
    .sort((a, b) => b.writtenAt - a.writtenAt)
    .map(({ record }) => record);
}

/**
 * The server a command should use: the one on `port` when one runs there; else, unless the port was
 * named explicitly, the newest one running.
 */
export function findRunningDevServer(devIssuerDir: string, port: number, portNamed = true): RunningDevServer | undefined {
  const running = findRunningDevServers(devIssuerDir);
  return running.find((server) => server.port === port) ?? (portNamed ? undefined : running[0]);
}

function readRecord(file: string): RunningDevServer | undefined {
  try {
    const parsed = RunningDevServerSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function modifiedAt(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
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
  /** The server published in the issuer directory that the command uses, when one runs. */
  running?: RunningDevServer;
}

/**
 * What a CLI mints for and calls: the server running on PORT (given, or .env's); without PORT, the one
 * on the default port, else the newest one running. Nothing running there: the address PORT names.
 */
export function localTarget(config: Config, env: NodeJS.ProcessEnv = process.env): LocalTarget {
  const portGiven = env.PORT !== undefined && env.PORT !== '';
  const running = findRunningDevServer(config.auth.devIssuerDir, config.http.port, portGiven);
  if (running) return { issuer: running.issuer, graphqlUrl: running.graphqlUrl, running };
  return { issuer: config.auth.issuer, graphqlUrl: `http://localhost:${config.http.port}/graphql` };
}
