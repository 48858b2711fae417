// A local stand-in for Auth0's Management API (Actions and trigger bindings), recording every call.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

interface StoredAction {
  id: string;
  name: string;
  code: string;
  runtime: string;
  supported_triggers: unknown[];
  secrets: Array<{ name: string; value: string }>;
  status: string;
  all_changes_deployed: boolean;
  /** GETs left before the build finishes. */
  buildPolls: number;
}

interface Binding {
  id: string;
  trigger_id: string;
  display_name: string;
  action: { id: string; name: string };
}

export interface ManagementApiStandIn {
  origin: string;
  domain: string;
  client: { id: string; secret: string };
  calls: RecordedCall[];
  actions: Map<string, StoredAction>;
  bindings: Binding[];
  /** The tenant's users, as the Management API returns them (with `updated_at`). */
  users: Array<Record<string, unknown>>;
  /** The next users-export job ends as `failed`. */
  failNextExport(): void;
  /** The next build of any Action ends as `failed`. */
  failNextBuild(): void;
  /** Answers the next request whose path ends with `suffix` with this status (and headers), `times` times. */
  failRequests(suffix: string, status: number, headers?: Record<string, string>, times?: number): void;
  close(): Promise<void>;
}

export async function startManagementApi(options: { domain?: string } = {}): Promise<ManagementApiStandIn> {
  const domain = options.domain ?? 'tenant.example.auth0.com';
  const client = { id: `mgmt-${randomBytes(4).toString('hex')}`, secret: randomBytes(18).toString('base64url') };
  const token = randomBytes(24).toString('base64url');
  const calls: RecordedCall[] = [];
  const actions = new Map<string, StoredAction>();
  const bindings: Binding[] = [];
  const failures: Array<{ suffix: string; status: number; headers: Record<string, string>; times: number }> = [];
  let failBuild = false;

  const app = express();
  app.use(express.json({ limit: '1mb' }), express.urlencoded({ extended: false }));
  app.use((req, res, next) => {
    calls.push({ method: req.method, path: req.path, query: { ...req.query }, body: req.body });
    const failure = failures.find((candidate) => req.path.endsWith(candidate.suffix) && candidate.times > 0);
    if (failure) {
      failure.times -= 1;
      res.status(failure.status).set(failure.headers).json({ statusCode: failure.status, error: 'Injected', message: `injected ${failure.status}` });
      return;
    }
    next();
  });

  app.post('/oauth/token', (req, res) => {
    const body = req.body as Record<string, string>;
    if (body.grant_type !== 'client_credentials' || body.client_id !== client.id || body.client_secret !== client.secret) {
      res.status(401).json({ error: 'access_denied', error_description: 'Unauthorized' });
      return;
    }
    if (body.audience !== `https://${domain}/api/v2/`) {
      res.status(403).json({ error: 'access_denied', error_description: `Service not enabled within domain: ${body.audience}` });
      return;
    }
    res.json({ access_token: token, token_type: 'Bearer', expires_in: 86400, scope: 'read:actions create:actions update:actions' });
  });

  const api = express.Router();
  api.use((req, res, next) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Invalid token' });
      return;
    }
    next();
  });
  const publicAction = (action: StoredAction) => ({
    id: action.id,
    name: action.name,
    code: action.code,
    runtime: action.runtime,
    supported_triggers: action.supported_triggers,
    // Like Auth0: secret names only, never their values.
    secrets: action.secrets.map((secret) => ({ name: secret.name, updated_at: new Date().toISOString() })),
    status: action.status,
    all_changes_deployed: action.all_changes_deployed,
  });
  api.get('/actions/actions', (req, res) => {
    const found = [...actions.values()].filter((action) => !req.query.actionName || action.name === req.query.actionName);
    res.json({ total: found.length, page: 0, per_page: 50, actions: found.map(publicAction) });
  });
  api.post('/actions/actions', (req, res) => {
    const body = req.body as StoredAction;
    const action: StoredAction = { ...body, id: randomUUID(), status: 'pending', all_changes_deployed: false, buildPolls: 2, secrets: body.secrets ?? [] };
    actions.set(action.id, action);
    res.status(201).json(publicAction(action));
  });
  api.get('/actions/actions/:id', (req, res) => {
    const action = actions.get(req.params.id);
    if (!action) return void res.status(404).json({ statusCode: 404, message: 'Action not found' });
    if (action.status !== 'built' && action.status !== 'failed') {
      action.buildPolls -= 1;
      action.status = action.buildPolls > 0 ? 'building' : failBuild ? 'failed' : 'built';
      if (action.status === 'failed') failBuild = false;
    }
    res.json(publicAction(action));
  });
  api.patch('/actions/actions/:id', (req, res) => {
    const action = actions.get(req.params.id);
    if (!action) return void res.status(404).json({ statusCode: 404, message: 'Action not found' });
    Object.assign(action, req.body, { status: 'pending', all_changes_deployed: false, buildPolls: 2 });
    res.json(publicAction(action));
  });
  api.post('/actions/actions/:id/deploy', (req, res) => {
    const action = actions.get(req.params.id);
    if (!action || action.status !== 'built') return void res.status(400).json({ statusCode: 400, message: 'Action is not built' });
    action.all_changes_deployed = true;
    res.status(202).json({ id: randomUUID(), action_id: action.id, deployed: true, status: 'built', number: 1 });
  });
  api.get('/actions/triggers/:trigger/bindings', (req, res) => {
    const found = bindings.filter((binding) => binding.trigger_id === req.params.trigger);
    res.json({ total: found.length, page: 0, per_page: 50, bindings: found });
  });
  api.patch('/actions/triggers/:trigger/bindings', (req, res) => {
    const requested = (req.body as { bindings: Array<{ ref: { type: string; value: string }; display_name: string }> }).bindings;
    const next = requested.map((item) => {
      const action = actions.get(item.ref.value) ?? { id: item.ref.value, name: item.display_name };
      return { id: randomUUID(), trigger_id: req.params.trigger, display_name: item.display_name, action: { id: action.id, name: action.name } };
    });
    bindings.splice(0, bindings.length, ...bindings.filter((binding) => binding.trigger_id !== req.params.trigger), ...next);
    res.json({ bindings: next });
  });
  const resourceServers: Array<Record<string, unknown>> = [];
  const clients: Array<Record<string, unknown>> = [];
  const grants: Array<Record<string, unknown>> = [];
  api.get('/resource-servers', (req, res) => {
    const wanted = ([] as unknown[]).concat(req.query.identifiers ?? []);
    res.json({ start: 0, limit: 50, total: 0, resource_servers: resourceServers.filter((server) => wanted.length === 0 || wanted.includes(server.identifier)) });
  });
  api.post('/resource-servers', (req, res) => {
    const server = { id: randomUUID(), ...(req.body as object) };
    resourceServers.push(server);
    res.status(201).json(server);
  });
  api.get('/clients', (req, res) => {
    const found = clients.filter((client) => !req.query.app_type || client.app_type === req.query.app_type);
    res.json({ start: 0, limit: 50, total: found.length, clients: found.map(({ client_secret: _secret, ...client }) => client) });
  });
  api.post('/clients', (req, res) => {
    const client = { client_id: randomBytes(16).toString('hex'), client_secret: randomBytes(32).toString('base64url'), ...(req.body as object) };
    clients.push(client);
    res.status(201).json(client);
  });
  api.get('/client-grants', (req, res) => {
    res.json({ client_grants: grants.filter((grant) => grant.client_id === req.query.client_id && grant.audience === req.query.audience) });
  });
  api.post('/client-grants', (req, res) => {
    const grant = { id: randomUUID(), ...(req.body as object) };
    grants.push(grant);
    res.status(201).json(grant);
  });
  const users: Array<Record<string, unknown>> = [];
  const jobs = new Map<string, { polls: number; fields: Array<{ name: string; export_as?: string }>; failed: boolean }>();
  let failExport = false;
  api.post('/jobs/users-exports', (req, res) => {
    const id = `job_${randomBytes(8).toString('hex')}`;
    jobs.set(id, { polls: 2, fields: (req.body as { fields: Array<{ name: string; export_as?: string }> }).fields, failed: failExport });
    failExport = false;
    res.status(201).json({ id, type: 'users_export', status: 'pending', format: 'json', created_at: new Date().toISOString() });
  });
  api.get('/jobs/:id', (req, res) => {
    const job = jobs.get(req.params.id);
    if (!job) return void res.status(404).json({ statusCode: 404, message: 'Job not found' });
    job.polls -= 1;
    const status = job.polls > 0 ? 'processing' : job.failed ? 'failed' : 'completed';
    res.json({ id: req.params.id, type: 'users_export', status, ...(status === 'completed' ? { location: `${origin()}/exports/${req.params.id}.json.gz` } : { time_left_seconds: 3 }) });
  });
  app.get('/exports/:file', (req, res) => {
    const job = jobs.get(req.params.file.replace('.json.gz', ''));
    if (!job) return void res.status(404).end();
    // The export's NDJSON, with the requested fields under their export_as names.
    const pick = (user: Record<string, unknown>, name: string): unknown =>
      name.split(/[.[\]]/).filter(Boolean).reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), user);
    const lines = users.map((user) => JSON.stringify(Object.fromEntries(job.fields.map((field) => [field.export_as ?? field.name, pick(user, field.name)]))));
    res.set('content-type', 'application/gzip').send(gzipSync(`${lines.join('\n')}\n`));
  });
  api.get('/users', (req, res) => {
    const perPage = Number(req.query.per_page ?? 50);
    const page = Number(req.query.page ?? 0);
    // Auth0's search never pages past the first 1,000 results.
    if ((page + 1) * perPage > 1000) return void res.status(400).json({ statusCode: 400, message: 'You can only page through the first 1000 records.' });
    const from = /updated_at:\[(\S+) TO \*\]/.exec(String(req.query.q ?? ''))?.[1];
    const found = users
      .filter((user) => !from || String(user.updated_at) >= from)
      .sort((a, b) => String(a.updated_at).localeCompare(String(b.updated_at)));
    const slice = found.slice(page * perPage, (page + 1) * perPage);
    res.json(req.query.include_totals === 'true' ? { start: page * perPage, limit: perPage, length: slice.length, total: Math.min(found.length, 1000), users: slice } : slice);
  });
  app.use('/api/v2', api);

  const origin = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    domain,
    client,
    calls,
    actions,
    bindings,
    users,
    failNextExport: () => void (failExport = true),
    failNextBuild: () => void (failBuild = true),
    failRequests: (suffix, status, headers = {}, times = 100) => void failures.push({ suffix, status, headers, times }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
