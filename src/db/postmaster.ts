// Who runs on a Postgres data directory: its postmaster.pid, and the processes behind it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Postmaster {
  pid: number;
  port: number;
}

/** The Postgres running on `dir` as its postmaster.pid says, or undefined when none runs (or the file is stale). */
export function readRunningPostmaster(dir: string): Postmaster | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  // Line 1 is the postmaster's PID, line 4 its port (see Postgres' pidfile.h).
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return { pid, port };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent of `pid`: from /proc on Linux, else from ps. Undefined when the process is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    try {
      const ppid = Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
      return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Asks a Postgres we did not start for a fast shutdown (SIGINT: clients disconnected, data flushed) and waits until it is gone. */
export async function stopPostmaster(pid: number, timeoutMs = 60_000): Promise<void> {
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  // It is not our child: there is no exit event to wait for.
  for (let delay = 10; isAlive(pid); delay = Math.min(delay * 2, 250)) {
    if (Date.now() > deadline) throw new Error(`Postgres (PID ${pid}) did not stop within ${timeoutMs / 1000} s of SIGINT`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
