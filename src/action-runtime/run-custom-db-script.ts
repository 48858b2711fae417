// Runs a custom database action script as Auth0 does: the text of one function in a sandbox, with
// `configuration`, a per-container `global`, Auth0's error classes and a callback that counts once.
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import vm from 'node:vm';
import { NODE_GLOBALS, recordingFetch, type HttpCall } from './run-post-login';

// Auth0 stops a script after about 20 s, and refuses scripts over 100 kB.
export const SCRIPT_LIMIT_MS = 20_000;
export const SCRIPT_MAX_BYTES = 100 * 1024;

/** Auth0's error classes for database scripts, as the sandbox exposes them. */
export class WrongUsernameOrPasswordError extends Error {
  override name = 'WrongUsernameOrPasswordError';
  constructor(
    readonly userId?: string,
    message?: string,
  ) {
    super(message ?? 'Wrong email or password.');
  }
}

export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message);
  }
}

export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
}

/** One webtask container: its `global` outlives a script run, like Auth0's until the container is recycled. */
export interface ScriptContainer {
  global: Record<string, unknown>;
}

export const newContainer = (): ScriptContainer => ({ global: {} });

export interface ScriptResult {
  /** The first callback's error argument, if any. */
  error?: Error;
  /** The profile (login, get user), or undefined for `callback(null)`. */
  profile?: Record<string, unknown>;
  /** How many times the script called back; Auth0 uses the first call, more is a bug. */
  callbacks: number;
  timedOut: boolean;
  logs: string[];
  httpCalls: HttpCall[];
}

export interface RunScriptOptions {
  file: string;
  /** The arguments before the callback: (email, password) for login, (email) for get user. */
  args: unknown[];
  configuration: Record<string, string>;
  container: ScriptContainer;
  fetchImpl?: typeof fetch;
  limitMs?: number;
}

/** Compiles the script as Auth0 stores it: exactly one function expression, nothing around it. */
export function compileScript(file: string, sandbox: vm.Context): (...args: unknown[]) => unknown {
  const code = fs.readFileSync(file, 'utf8');
  if (Buffer.byteLength(code) > SCRIPT_MAX_BYTES) throw new Error(`${file} is larger than Auth0's 100 kB limit for a script`);
  // A parenthesized expression: a second top-level function, or any statement, is a syntax error here as in Auth0.
  const fn = vm.runInContext(`(${code.trim()}\n)`, sandbox, { filename: file }) as unknown;
  if (typeof fn !== 'function') throw new Error(`${file} is not a single function`);
  return fn as (...args: unknown[]) => unknown;
}

export async function runCustomDbScript(options: RunScriptOptions): Promise<ScriptResult> {
  const logs: string[] = [];
  const httpCalls: HttpCall[] = [];
  const log = (...values: unknown[]) => void logs.push(values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(' '));
  const hostRequire = createRequire(options.file);
  const sandbox = vm.createContext({
    configuration: Object.freeze({ ...options.configuration }),
    global: options.container.global,
    WrongUsernameOrPasswordError,
    ValidationError,
    UnauthorizedError,
    console: { log, info: log, warn: log, error: log },
    fetch: recordingFetch(httpCalls, options.fetchImpl),
    require: (name: string) => {
      if (!isBuiltin(name)) throw new Error(`Cannot find module '${name}': the scripts use no npm modules`);
      return hostRequire(name);
    },
    ...NODE_GLOBALS,
  });
  const script = compileScript(options.file, sandbox);

  const result: ScriptResult = { callbacks: 0, timedOut: false, logs, httpCalls };
  let timer: NodeJS.Timeout | undefined;
  // A callback-style script is done at its first callback; an async one when its promise settles,
  // so that a second callback before that is counted.
  let settleOnCallback = true;
  const called = new Promise<void>((resolve) => {
    const callback = (error?: Error | null, profile?: Record<string, unknown>) => {
      result.callbacks += 1;
      if (result.callbacks > 1) return;
      if (error) result.error = error;
      else if (profile) result.profile = structuredClone(profile);
      if (settleOnCallback) resolve();
    };
    let returned: unknown;
    try {
      returned = script(...options.args, callback);
    } catch (error) {
      result.error = error instanceof Error ? error : new Error(String(error));
      resolve();
      return;
    }
    // An async script: a rejection is a failed run; its settling also tells when it is done calling back.
    // (A promise from the sandbox's realm is no host `instanceof Promise`.)
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      settleOnCallback = false;
      (returned as Promise<unknown>).then(
        () => resolve(),
        (error: unknown) => {
          if (result.callbacks === 0) result.error = error instanceof Error ? error : new Error(String(error));
          resolve();
        },
      );
    }
  });
  await Promise.race([
    called,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        result.timedOut = true;
        resolve();
      }, options.limitMs ?? SCRIPT_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!result.timedOut && result.callbacks === 0 && !result.error) result.error = new Error('the script ended without calling back');
  return result;
}
