// The thinnest honest server doing our work: node:http + pg + jose, the same tokens and one SQL statement per request.
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { Pool } from 'pg';

const { DATABASE_URL, ISSUER, AUDIENCE, PORT = '0', POOL_SIZE = '10' } = process.env;
if (!DATABASE_URL || !ISSUER || !AUDIENCE) throw new Error('DATABASE_URL, ISSUER and AUDIENCE are required');

const pool = new Pool({ connectionString: DATABASE_URL, max: Number(POOL_SIZE) });
const jwks = createRemoteJWKSet(new URL('.well-known/jwks.json', ISSUER));

const ADD_USER = `
  INSERT INTO users (auth0_id, email, email_verified, name, picture, connection, logins_count, last_login_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (auth0_id) DO UPDATE SET
    email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, name = EXCLUDED.name,
    picture = EXCLUDED.picture, connection = EXCLUDED.connection,
    logins_count = GREATEST(users.logins_count, EXCLUDED.logins_count),
    last_login_at = GREATEST(users.last_login_at, EXCLUDED.last_login_at), updated_at = now()
  RETURNING id, auth0_id, email, (xmax = 0) AS created`;

const ME = 'SELECT id, auth0_id, email FROM users WHERE auth0_id = $1';

const PAGE = `
  SELECT t.id, t.amount_minor::text AS amount_minor, t.currency, t.occurred_at
    FROM transactions t JOIN users u ON u.id = t.user_id
   WHERE u.auth0_id = $1 AND ($2::timestamptz IS NULL OR (t.occurred_at, t.id) < ($2::timestamptz, $3::uuid))
   ORDER BY t.occurred_at DESC, t.id DESC LIMIT $4`;

interface Body {
  operationName?: string;
  query?: string;
  variables?: Record<string, any>;
}

async function handle(claims: JWTPayload, body: Body): Promise<unknown> {
  // The Post Login Action sends its mutation without an operationName.
  const operation = body.operationName ?? (/^\s*mutation AddUser\b/.test(body.query ?? '') ? 'AddUser' : undefined);
  switch (operation) {
    case 'AddUser': {
      if (claims.gty !== 'client-credentials' || !String(claims.scope ?? '').split(' ').includes('create:users')) return { errors: [{ message: 'forbidden', extensions: { code: 'FORBIDDEN' } }] };
      const input = body.variables?.input ?? {};
      const { rows } = await pool.query(ADD_USER, [input.auth0Id, input.email ?? null, input.emailVerified ?? false, input.name ?? null, input.picture ?? null, input.connection ?? null, input.loginsCount ?? 0, input.lastLoginAt ?? null]);
      const row = rows[0];
      return { data: { addUser: { created: row.created, user: { id: row.id, auth0Id: row.auth0_id, email: row.email } } } };
    }
    case 'Me': {
      const { rows } = await pool.query(ME, [claims.sub]);
      return { data: { me: rows[0] ? { id: rows[0].id, auth0Id: rows[0].auth0_id, email: rows[0].email } : null } };
    }
    case 'Page': {
      const first = Number(body.variables?.first ?? 20);
      const after = body.variables?.after ? (JSON.parse(Buffer.from(body.variables.after, 'base64url').toString()) as [string, string]) : [null, null];
      const { rows } = await pool.query(PAGE, [claims.sub, after[0], after[1], first + 1]);
      const edges = rows.slice(0, first).map((row) => ({
        cursor: Buffer.from(JSON.stringify([row.occurred_at.toISOString(), row.id])).toString('base64url'),
        node: { id: row.id, amountMinor: row.amount_minor, currency: row.currency, occurredAt: row.occurred_at.toISOString() },
      }));
      return { data: { me: { transactions: { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } } } } };
    }
    default:
      return { errors: [{ message: 'unknown operation', extensions: { code: 'BAD_REQUEST' } }] };
  }
}

const server = http.createServer(async (req, res) => {
  const send = (status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  try {
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (!token) return send(401, { errors: [{ message: 'Unauthorized' }] });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let claims: JWTPayload;
    try {
      claims = (await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] })).payload;
    } catch {
      return send(401, { errors: [{ message: 'Unauthorized' }] });
    }
    send(200, await handle(claims, JSON.parse(Buffer.concat(chunks).toString()) as Body));
  } catch (error) {
    send(500, { errors: [{ message: error instanceof Error ? error.message : 'error' }] });
  }
});

server.listen(Number(PORT), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`reference listening on ${typeof address === 'object' && address ? address.port : PORT}\n`);
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
