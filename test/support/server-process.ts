// Runs the real entry point (src/main.ts) as a child process, directly or through `npm run`.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SETTING_NAMES } from '../../src/config';

export const ROOT = path.resolve(__dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches; rejects if the process exits first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** Signals every process of the group the process leads (started with `ownProcessGroup`). */
  signalGroup(signal: NodeJS.Signals): void;
}

export function startServerProcess(env: Record<string, string>, script = 'src/main.ts'): ServerProcess {
  return startLoggedProcess(process.execPath, ['--import', 'tsx', script], env);
}

/**
 * `npm start`'s command line (tsx, the .env preload, main.ts) run in another directory, whose `.env`
 * files it then reads: a test cannot write the checkout's own `.env` while other tests run from it.
 */
export function startServerProcessIn(cwd: string, env: Record<string, string>, script = 'src/main.ts'): ServerProcess {
  const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const preload = pathToFileURL(path.join(ROOT, 'src/load-env-files.ts')).href;
  return startLoggedProcess(process.execPath, ['--import', tsx, '--import', preload, path.join(ROOT, script)], env, { cwd });
}

/** `npm run <script>` itself, as a user starts it: npm, then the script's shell and node. */
export function startNpmScript(script: string, env: Record<string, string>, args: string[] = [], options: { ownProcessGroup?: boolean } = {}): ServerProcess {
  // npm scripts read the checkout's .env (a developer's own): every setting the test does not give
  // is set empty (which the config reads as unset, and which a .env file never replaces).
  const unset = Object.fromEntries(SETTING_NAMES.map((name) => [name, '']));
  return startLoggedProcess('npm', ['run', script, ...(args.length ? ['--', ...args] : [])], { ...unset, LOG_PRETTY: 'false', ...env }, options);
}

/** `ownProcessGroup`: npm leads a process group of its own, which `signalGroup` signals as a terminal's Ctrl-C does. */
function startLoggedProcess(command: string, args: string[], env: Record<string, string>, options: { ownProcessGroup?: boolean; cwd?: string } = {}): ServerProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    detached: options.ownProcessGroup ?? false,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    output: () => output,
    exited,
    signal: (signal) => void child.kill(signal),
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const check = () => {
          if (pattern.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void exited.then((code) => {
          clearTimeout(timer);
          if (!pattern.test(output)) reject(new Error(`process exited (${code}) before printing ${pattern}:\n${output}`));
        });
      }),
  };
}
