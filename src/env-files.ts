// Settings from `.env` files at the project root, under the environment: what every npm script reads first.
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Read in this order, each filling only what is still unset: the environment wins over `.env`, and
 * `.env` (yours, by hand) over `.env.auth0` (written by `npm run action:deploy -- --create-resources`).
 */
export const ENV_FILES = ['.env', '.env.auth0'] as const;

export interface EnvFileRead {
  file: string;
  /** The settings taken from the file (names only: values may be secrets). */
  applied: string[];
  /** The settings the file has that the environment (or an earlier file) already set. */
  overridden: string[];
}

/** What the last loadEnvFiles() read, for the server to say at start-up. */
export const envFilesRead: EnvFileRead[] = [];

/** Fills `env` from the root's `.env` files, never replacing a value already set (even an empty one). */
export function loadEnvFiles(root: string, env: NodeJS.ProcessEnv = process.env): EnvFileRead[] {
  const read: EnvFileRead[] = [];
  for (const file of ENV_FILES) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`cannot read ${path.join(root, file)}: ${(error as Error).message}`);
    }
    // Node's own parser (the one behind --env-file); unlike --env-file and process.loadEnvFile
    // (Node 20), applying it here leaves what the environment already set alone.
    const parsed = parseEnv(text);
    const entry: EnvFileRead = { file, applied: [], overridden: [] };
    // Sorted: Node's parser does not keep the file's order.
    for (const [name, value] of Object.entries(parsed).sort(([a], [b]) => a.localeCompare(b))) {
      if (env[name] === undefined) {
        env[name] = value;
        entry.applied.push(name);
      } else {
        entry.overridden.push(name);
      }
    }
    read.push(entry);
  }
  envFilesRead.splice(0, envFilesRead.length, ...read);
  return read;
}
