// Request logs are written asynchronously, yet every line reaches the output, also when the process stops.
import { createTestDatabase, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from './support/issuer';
import { startServerProcess } from './support/server-process';

let database: TestDatabase;
let issuer: TestIssuer;
beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await issuer.close();
  await database.drop();
});

it('loses no request line at shutdown: SIGTERM right after a burst, and every request is in the output', async () => {
  const port = await freePort();
  const server = startServerProcess({ PORT: String(port), DATABASE_URL: database.url, AUTH0_ISSUER_BASE_URL: issuer.url, AUTH0_AUDIENCE: TEST_AUDIENCE });
  try {
    await server.waitForOutput(/GraphQL API ready/);
    const burst = 300;
    const ids = Array.from({ length: burst }, (_, i) => `burst-${process.pid}-${i}`);
    const statuses = await Promise.all(
      ids.map((id) => fetch(`http://127.0.0.1:${port}/graphql?ignored=query`, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' }, body: '{}' }).then((response) => response.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    // 'close' comes once the child's output has been read to its end ('exit' may come before).
    const closed = new Promise<void>((resolve) => server.child.once('close', () => resolve()));
    server.signal('SIGTERM');
    expect(await server.exited).toBe(0);
    await closed;

    const lines = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string; req?: { id?: string; url?: string } });
    const logged = lines.filter((line) => line.msg === 'request completed' && line.req?.id?.startsWith(`burst-${process.pid}-`));
    expect(logged.map((line) => line.req?.id).sort()).toEqual([...ids].sort());
    // Nothing from the query string reaches the log, only the mark that there was one.
    expect(new Set(logged.map((line) => line.req?.url))).toEqual(new Set(['/graphql?[redacted]']));
    expect(lines.at(-1)?.msg).toBe('stopped');
  } finally {
    server.signal('SIGKILL');
  }
});
