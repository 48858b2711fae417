// Launch day under the default limits: Auth0 sends every first login from one NAT address with one M2M token.
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created } }';
const STORM = 3000;
const CONCURRENCY = 32;

let server: TestServer;
beforeAll(async () => {
  // No RATE_LIMIT_* settings: the defaults are what is tested.
  server = await startTestServer();
});
afterAll(() => server.close());

interface Answer {
  status: number;
  /** The `r` (remaining) parameter of the draft-8 RateLimit header, when sent. */
  remaining?: number;
  policy?: string;
}

async function post(token: string, body: object): Promise<Answer> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  const remaining = /;\s*r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1];
  return { status: response.status, remaining: remaining === undefined ? undefined : Number(remaining), policy: response.headers.get('ratelimit-policy') ?? undefined };
}

/** Sends `count` requests, `CONCURRENCY` at a time over keep-alive connections, as the Action's burst would. */
async function burst(count: number, send: (index: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      answers[index] = await send(index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers;
}

it(`${STORM} addUser calls from one address with one M2M token, under the default limits, all succeed`, async () => {
  const token = await server.machineToken(['create:users']);
  const prefix = `google-oauth2|storm-${randomUUID()}-`;
  const answers = await burst(STORM, (i) => post(token, { query: ADD_USER, variables: { input: { auth0Id: `${prefix}${i}`, email: `storm${i}@example.com`, loginsCount: 1 } } }));

  expect(answers.filter((answer) => answer.status !== 200).map((answer) => answer.status)).toEqual([]);
  // Every call was counted against the token's subject, under the machine budget, none against the address.
  const { perMachine } = server.config.rateLimit;
  expect(new Set(answers.map((answer) => answer.policy?.match(/q=(\d+)/)?.[1]))).toEqual(new Set([String(perMachine)]));
  expect(answers.every((answer) => answer.remaining !== undefined && answer.remaining >= perMachine - STORM)).toBe(true);
  expect(await server.prisma.user.count({ where: { auth0Id: { startsWith: prefix } } })).toBe(STORM);
  // A machine shared with other test suites can be slow; the storm's size, not its speed, is tested.
}, 300_000);

it('cuts off a flood of bad tokens from one address, while a valid token from that address keeps working', async () => {
  const { perIp } = server.config.rateLimit;
  const flood = await burst(perIp + 1, () => post('not-a-token', { query: '{ viewer { kind } }' }));
  const statuses = flood.map((answer) => answer.status);
  expect(statuses.filter((status) => status === 401)).toHaveLength(perIp);
  expect(statuses.filter((status) => status === 429)).toHaveLength(1);
  expect((await post('not-a-token', { query: '{ viewer { kind } }' })).status).toBe(429);

  const token = await server.machineToken(['create:users']);
  const auth0Id = `google-oauth2|${randomUUID()}`;
  expect((await post(token, { query: ADD_USER, variables: { input: { auth0Id } } })).status).toBe(200);
  expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(1);
});
