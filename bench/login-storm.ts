// Benchmark scenario 7: first logins through the real Post Login Action, open-loop at a fixed arrival rate.
import os from 'node:os';
import path from 'node:path';
import { ActionContainer } from '../src/action-runtime/action-container';
import { runPostLogin, type LoginResult } from '../src/action-runtime/run-post-login';
import { SimulatedTenant } from '../src/action-runtime/simulated-tenant';
import { cpuSeconds } from './cpu';

const ACTION_FILE = path.resolve(__dirname, '../actions/post-login.js');
const FLAG = 'postgres_sync_provisioned';
const TICK_MS = 5;

export interface StormTarget {
  name: string;
  /** The GraphQL endpoint the Action calls. */
  url: string;
  /** The server's process id, to read its CPU time from /proc. */
  pid?: number;
}

export interface StormSecrets {
  AUTH0_DOMAIN: string;
  CLIENT_ID: string;
  CLIENT_SECRET: string;
  API_AUDIENCE: string;
}

export interface StormResult {
  target: string;
  rate: number;
  seconds: number;
  logins: number;
  /** Logins that provisioned the user (app_metadata flag set) at this first login, in %. */
  provisionedPercent: number;
  p50: number;
  p99: number;
  max: number;
  status429: number;
  status503: number;
  /** Action timeouts and connection failures of the addUser call. */
  failed: number;
  /** The server's CPU over the run, in % of one core. */
  serverCpuPercent?: number;
  /** The machine's one-minute load average at the end (other processes share the 2 cores). */
  loadAverage: number;
}

/**
 * Starts `rate` logins a second for `seconds`, whatever the server's speed (open loop: Auth0 does
 * not wait for one login to finish before the next user signs in), each a new user's first login.
 */
export async function loginStorm(target: StormTarget, secrets: StormSecrets, rate: number, seconds: number, runId: string): Promise<StormResult> {
  const tenant = new SimulatedTenant();
  const container = new ActionContainer(ACTION_FILE);
  const allSecrets = { ...secrets, API_URL: target.url, FAIL_CLOSED: 'false' };
  const login = (index: number) =>
    runPostLogin({
      tenant,
      actionFile: ACTION_FILE,
      container,
      secrets: allSecrets,
      user: { user_id: `google-oauth2|storm-${runId}-${rate}-${index}`, connection: 'google-oauth2', email: `storm${index}@example.com`, email_verified: true, name: 'Storm User' },
    });
  // The Action's cache already holds an M2M token, as it does after the first login of a burst.
  // A cold process on a busy machine may miss the Action's 5 s timeout on its very first request.
  let warm = await login(-1);
  for (let attempt = 0; attempt < 3 && warm.appMetadataSet[FLAG] !== true; attempt += 1) warm = await login(-1);
  if (warm.appMetadataSet[FLAG] !== true) throw new Error(`${target.name}: the warm-up login did not provision: ${warm.logs.join(' | ')}`);

  const total = rate * seconds;
  const running: Array<Promise<LoginResult>> = [];
  const cpuBefore = target.pid ? cpuSeconds(target.pid) : undefined;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (running.length < due) running.push(login(running.length));
      if (running.length >= total) {
        clearInterval(tick);
        resolve();
      }
    }, TICK_MS);
  });
  const results = await Promise.all(running);
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = target.pid ? cpuSeconds(target.pid) : undefined;

  const durations = results.map((result) => result.durationMs).sort((a, b) => a - b);
  const apiStatuses = results.flatMap((result) => result.httpCalls.filter((call) => call.url === target.url).map((call) => call.status));
  return {
    target: target.name,
    rate,
    seconds,
    logins: results.length,
    provisionedPercent: Math.round((results.filter((result) => result.appMetadataSet[FLAG] === true).length / results.length) * 1000) / 10,
    p50: percentile(durations, 0.5),
    p99: percentile(durations, 0.99),
    max: durations.at(-1) ?? 0,
    status429: apiStatuses.filter((status) => status === 429).length,
    status503: apiStatuses.filter((status) => status === 503).length,
    failed: apiStatuses.filter((status) => status === 'failed').length,
    loadAverage: Math.round(os.loadavg()[0]! * 10) / 10,
    serverCpuPercent: cpuBefore !== undefined && cpuAfter !== undefined ? Math.round(((cpuAfter - cpuBefore) / elapsed) * 100) : undefined,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
