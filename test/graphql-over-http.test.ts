// The GraphQL-over-HTTP spec's reference audits (graphql-http) against the real app: every MUST and SHOULD passes.
import { serverAudits } from 'graphql-http';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer({ env: { GRAPHQL_INTROSPECTION: 'true' } });
  token = await server.userToken('auth0|graphql-over-http-audits');
});
afterAll(() => server.close());

// The audits send no credentials; every request goes out with a valid user token, as a real client's would.
const withToken: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

// Only the MUSTs and SHOULDs are required; the MAYs are the server's free choice.
const audits = serverAudits({ url: () => server.graphqlUrl, fetchFn: withToken }).filter((audit) => /^(MUST|SHOULD)\b/.test(audit.name));

it('finds the MUST and SHOULD audits of the spec', () => {
  expect(audits.length).toBeGreaterThan(30);
});

describe.each(audits.map((audit) => [`${audit.id} ${audit.name}`, audit] as const))('%s', (_name, audit) => {
  it('passes', async () => {
    const result = await audit.fn();
    if (result.status !== 'ok') {
      const body = result.response ? await result.response.text() : '';
      throw new Error(`${result.reason}\nstatus: ${result.response?.status}\nbody: ${body}`);
    }
    expect(result.status).toBe('ok');
  });
});
