// The HTTP server main.ts listens with: Node's server around the Express app, with timeouts sized for callers on a 5 s budget.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Config } from '../config';

// Node checks the timeouts below on a timer (30 s by default), so a timeout could run that much
// late; checked this often, a slow client is cut off within a quarter second of its deadline.
const TIMEOUT_CHECK_INTERVAL_MS = 250;

/**
 * Node's defaults give a client 60 s to send its headers and 300 s to send its whole request: a
 * client trickling bytes holds its socket (and memory) that long. Past the timeouts Node answers
 * 408 and closes the connection. They bound receiving the request only, never the response.
 */
export function createHttpServer(app: RequestListener, { headersTimeoutMs, requestTimeoutMs }: Pick<Config['http'], 'headersTimeoutMs' | 'requestTimeoutMs'>): Server {
  return createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, app);
}
