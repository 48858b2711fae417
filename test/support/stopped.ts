// Awaits the end of a server started by a test: its node process, its embedded Postgres, its port.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isAlive } from '../../src/db/postmaster';
import { waitUntil } from './wait-until';

/** The postmaster's PID from postmaster.pid, once Postgres has written it. */
export async function postgresPidOf(dataDir: string): Promise<number> {
  const file = path.join(dataDir, 'postmaster.pid');
  await waitUntil(async () => fs.existsSync(file) && /^\d+\n/.test(fs.readFileSync(file, 'utf8')), 60_000);
  return Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
}

/** The PID of the node process that wrote the first JSON log line of `output`. */
export function nodePidIn(output: string): number {
  const match = /"pid":(\d+)/.exec(output);
  if (!match) throw new Error(`no JSON log line with a pid in:\n${output}`);
  return Number(match[1]);
}

export async function expectEverythingStopped(options: { nodePid: number; postgresPid?: number; dataDir: string; port: number }): Promise<void> {
  await waitUntil(async () => !isAlive(options.nodePid), 60_000);
  if (options.postgresPid !== undefined) await waitUntil(async () => !isAlive(options.postgresPid!), 60_000);
  expect(fs.existsSync(path.join(options.dataDir, 'postmaster.pid'))).toBe(false);
  await expect(connect(options.port)).rejects.toThrow(/ECONNREFUSED/);
}

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
