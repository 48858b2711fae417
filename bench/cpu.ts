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

/**
 * CPU seconds of every process of a Postgres: the postmaster (with its reaped children) and its
 * live backends and workers, found by their parent. Undefined where /proc is missing.
 */
export function postgresCpuSeconds(postmasterPidFile: string): number | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const postmaster = Number(fs.readFileSync(postmasterPidFile, 'utf8').split('\n')[0]);
  const ticks = (fields: string[], from: number, to: number) => fields.slice(from, to).reduce((sum, value) => sum + Number(value), 0);
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) === postmaster) total += ticks(fields, 11, 15);
    else if (Number(fields[1]) === postmaster) total += ticks(fields, 11, 13);
  }
  return total / 100;
}
