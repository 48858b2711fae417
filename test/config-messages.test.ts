// A bad setting stops start-up with a message in the project's words: what was given, what is expected, never a secret.
import { ConfigError, loadConfig } from '../src/config';
import { freePort } from './support/free-port';
import { startServerProcess } from './support/server-process';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('a bad setting', () => {
  it('names the value given and what is expected, not zod\'s wording', () => {
    const problems = problemsOf({ PORT: 'abc', DATABASE_POOL_SIZE: '1.5', LOG_LEVEL: 'loud', GRAPHQL_INTROSPECTION: 'yes', HTTP_MAX_QUEUE: '-1', AUTH0_CLOCK_TOLERANCE_S: '601' });
    expect(problems).toEqual([
      'PORT is "abc": expected a port number from 0 to 65535 (0: any free port)',
      'DATABASE_POOL_SIZE is "1.5": expected a whole number, above 0',
      'LOG_LEVEL is "loud": expected one of fatal, error, warn, info, debug, trace, silent',
      'GRAPHQL_INTROSPECTION is "yes": expected one of 0, 1, true, false',
      'HTTP_MAX_QUEUE is "-1": expected a whole number, 0 or more',
      'AUTH0_CLOCK_TOLERANCE_S is "601": expected a whole number from 0 to 600',
    ]);
    expect(problems.join('\n')).not.toMatch(/Invalid input|Invalid option|received NaN|Too (big|small)/);
  });

  it('quotes a URL without its password, and hides the value when the password cannot be found in it', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://app:hunter2@db.example:3306/app' })).toEqual([
      'DATABASE_URL is "mysql://app:***@db.example:3306/app": expected a Postgres URL such as postgresql://user:password@localhost:5432/app',
    ]);
    const unparsable = problemsOf({ DATABASE_URL: 'postgresql://app:hunter2@db.example:port/app' }).join('\n');
    expect(unparsable).toMatch(/^DATABASE_URL is a value of \d+ characters \(not shown: it may hold a password\): expected a Postgres URL/);
    expect(unparsable).not.toContain('hunter2');
  });

  it('never shows a secret, only its length', () => {
    const problems = problemsOf({ CURSOR_SECRET: 'hunter2', AUTH0_LOG_STREAM_TOKEN: 'hunter3', AUTH0_MGMT_CLIENT_SECRET: 'hunter4' }).join('\n');
    expect(problems).toContain('CURSOR_SECRET is a secret of 7 characters (not shown): expected at least 32 characters');
    expect(problems).toContain('AUTH0_LOG_STREAM_TOKEN is a secret of 7 characters (not shown): expected at least 24 characters');
    expect(problems).toContain('AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET: set both');
    expect(problems).not.toMatch(/hunter/);
  });

  it('stops the server with one line per problem, no stack trace and no secret, and exit code 1', async () => {
    const server = startServerProcess({
      PORT: 'abc',
      DATABASE_URL: 'mysql://app:hunter2@db.example/app',
      CURSOR_SECRET: 'hunter3',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
    });
    expect(await server.exited).toBe(1);
    const output = server.output();
    expect(output).toContain('Invalid configuration:\n  - PORT is "abc": expected a port number from 0 to 65535');
    expect(output).toContain('  - DATABASE_URL is "mysql://app:***@db.example/app": expected a Postgres URL');
    expect(output).toContain('See .env.example for every setting.');
    expect(output).not.toMatch(/hunter|at .*\.ts:\d+|received NaN/);
  }, 60_000);
});
