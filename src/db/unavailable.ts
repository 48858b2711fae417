// Tells a database that is down, overloaded or too slow apart from a bug: the first is UNAVAILABLE (503), the second a 500.
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);
// Postgres SQLSTATEs: connection exceptions (08), insufficient resources (53), operator intervention
// (57: shutdown, cannot connect now, statement timeout / query cancelled).
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Can't reach database server/i;

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  severity?: unknown;
  message?: unknown;
  cause?: unknown;
  /** graphql-js wraps a thrown value that is not an Error of its own realm (under jest, say) in NonErrorThrown. */
  thrownValue?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as ErrorLike;
    if (typeof e.code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(e.code) || UNAVAILABLE_NODE_CODES.has(e.code))) return true;
    if (typeof e.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(e.kind)) return true;
    if (e.kind === 'postgres' && typeof e.code === 'string' && UNAVAILABLE_SQLSTATE.test(e.code)) return true;
    // pg's own DatabaseError, from the hot paths' plain SQL (src/db/sql.ts): a severity and a SQLSTATE.
    if (typeof e.severity === 'string' && typeof e.code === 'string' && UNAVAILABLE_SQLSTATE.test(e.code)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    current = e.meta?.driverAdapterError?.cause ?? e.cause ?? e.thrownValue;
  }
  return false;
}
