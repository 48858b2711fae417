// Opaque keyset cursors: signed so they cannot be forged, and bound to the list they came from.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badUserInput } from '../../errors';

export type CursorKey = [string, string];

export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  /** `list` names the list a cursor belongs to, e.g. `transactions:<user id>`. */
  encode(list: string, key: CursorKey): string {
    const payload = Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** Throws BAD_USER_INPUT naming `field` for a malformed, tampered or foreign cursor. */
  decode(cursor: string, list: string, field = 'after'): CursorKey {
    const [payload, signature, extra] = cursor.split('.');
    if (!payload || !signature || extra !== undefined || cursor.length > 512) throw badUserInput(field, 'is not a cursor from this API');
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw badUserInput(field, 'is not a cursor from this API');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { l?: unknown; k?: unknown };
    if (decoded.l !== list) throw badUserInput(field, 'belongs to another list');
    const key = decoded.k;
    if (!Array.isArray(key) || key.length !== 2 || !key.every((part) => typeof part === 'string')) throw badUserInput(field, 'is not a cursor from this API');
    return key as CursorKey;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `first` as a page size: 20 when absent, otherwise 1 to 100. */
export function pageSize(first: number | null | undefined, field = 'first'): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw badUserInput(field, `must be between 1 and ${MAX_PAGE_SIZE}`);
  return first;
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Builds a page from `size + 1` rows fetched: the extra row only says that more follow. */
export function toPage<T>(rows: T[], size: number, cursorOf: (row: T) => string): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
}
