// The file argument of users:import and legacy:import: where it is, whether it can be read, what a read error means.
import fs from 'node:fs';
import path from 'node:path';

/** Exit code of an import that finished but refused some lines (0: every line imported; 1: it failed; 2: usage). */
export const INVALID_LINES_EXIT_CODE = 3;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * The path as the user meant it. `npm run` starts scripts in the project root, and keeps the
 * directory the command was typed in as INIT_CWD: a relative path is relative to that.
 */
export function resolveExportPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.INIT_CWD || process.cwd(), file);
}

/** Why the (resolved) file cannot be imported, in one line naming it, or undefined; checked before the database is opened. */
export function unreadableExport(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return `${file} is not a file`;
    fs.accessSync(file, fs.constants.R_OK);
    if (isGzipName(file) && !startsWithGzipMagic(file)) return `${file} is not a gzip file (a name ending in .gz is read as gzip)`;
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${file} does not exist`;
    if (code === 'EACCES') return `${file} is not readable (permission denied)`;
    return `cannot read ${file}: ${code ?? String(error)}`;
  }
}

export const isGzipName = (file: string): boolean => file.endsWith('.gz');

/** A read error in words: zlib's own ("unexpected end of file") name neither the file nor gzip. */
export function describeReadError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && code.startsWith('Z_') ? `${file} is not a valid gzip file (${message})` : message;
}

function startsWithGzipMagic(file: string): boolean {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head.equals(GZIP_MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}
