// CPU time of a process from /proc (Linux): a per-request cost that a busy machine distorts far less than req/s.
import fs from 'node:fs';

/** User plus system CPU seconds of a process, or undefined where /proc is missing. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
