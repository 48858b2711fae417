// Creates a file with its whole content at once, unless it exists: of processes racing, exactly one wins.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `content` to a temporary file beside `file`, then hard-links it into place: link(2) fails
 * when `file` exists, and a reader never sees a half-written file. Returns what `file` holds
 * afterwards (ours, or the winner's) and whether it is ours.
 */
export function createFileOnce(file: string, content: string, mode = 0o600): { content: string; created: boolean } {
  if (fs.existsSync(file)) return { content: fs.readFileSync(file, 'utf8'), created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, content, { mode, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
    return { content, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { content: fs.readFileSync(file, 'utf8'), created: false };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}
