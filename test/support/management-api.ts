// A local stand-in for Auth0's Management API (Actions, trigger bindings, users, connections, import and export jobs), recording every call.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { checkCustomPasswordHash, type ImportError } from './auth0-custom-password-hash';
import { managementUsersEndpoints, type ManagementUser } from '../../src/action-runtime/management-users-endpoints';

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

export interface StoredConnection {
  id: string;
  name: string;
  strategy: string;
  options: Record<string, unknown>;
  enabled_clients?: string[];
}

/** One users-exports job: it completes after `polls` GETs, none counted while `held`. */
interface ExportJob {
  id: string;
  polls: number;
  fields: Array<{ name: string; export_as?: string }>;
  failed: boolean;
  held: boolean;
  createdAt: string;
}

/** One users-imports job as received: its form fields and the parsed users file. */
export interface ImportJob {
  id: string;
  connection_id: string;
  upsert: boolean;
  users: Array<Record<string, unknown>>;
  errors: Array<{ user: Record<string, unknown>; errors: ImportError[] }>;
  polls: number;
  /** How GET /jobs/{id}/errors answers: per-user errors (an array, or 204 when there are none), or the job object. */
  errorsAnswer: 'per-user' | 'job-object';
}

export interface ManagementApiStandIn {
  origin: string;
  domain: string;
  client: { id: string; secret: string };
  /** The settings that point our commands and server at this stand-in (the SDK's requests go to `origin`). */
  env: { AUTH0_DOMAIN: string; AUTH0_MANAGEMENT_ORIGIN: string; AUTH0_MGMT_CLIENT_ID: string; AUTH0_MGMT_CLIENT_SECRET: string };
  calls: RecordedCall[];
  actions: Map<string, StoredAction>;
  bindings: Binding[];
  /** The tenant's users, as the Management API returns them (with `updated_at`). */
  users: Array<Record<string, unknown>>;
  /** Database connections (custom database scripts, import mode), by id. */
  connections: Map<string, StoredConnection>;
  /** users-imports jobs, by id. */
  importJobs: Map<string, ImportJob>;
  /** The next users-export job ends as `failed`. */
  failNextExport(): void;
  /** users-export jobs created from now on stay `processing` until releaseExports(). */
  holdExports(): void;
  /** Lets every held users-export job finish (after its next two polls). */
  releaseExports(): void;
  /** The next `times` download locations handed out are already expired. */
  expireNextExportLinks(times: number): void;
  /**
   * GET /jobs/{id}/errors of the next users-imports job answers the job object instead of the per-user
   * array (the endpoint's documented "oneOf"); `reportFailures` makes its summary count failures that are not listed.
   */
  answerNextImportErrorsWithJob(options?: { reportFailures?: number }): void;
  /** The next build of any Action ends as `failed`. */
  failNextBuild(): void;
  /** Answers the next request whose path ends with `suffix` with this status (and headers), `times` times. */
  failRequests(suffix: string, status: number, headers?: Record<string, string>, times?: number): void;
  /** Never answers the next `times` requests whose path ends with `suffix` (a timeout for the client). */
  hangRequests(suffix: string, times?: number): void;
  /** Revokes the current access token: the next call with it gets 401, and /oauth/token issues a new one. */
  rotateToken(): void;
  /** Runs `hook` once, after the next PATCH of a user is applied and before Auth0 answers it. */
  beforeNextUserPatchAnswer(hook: () => Promise<void>): void;
  /**
   * Holds the next PATCH of a user: it is neither applied nor answered (the client times out)
   * until `applyLate()`, which applies it as an Auth0 that finished the request after all.
   */
  holdNextUserPatch(): { applyLate(): void };
  close(): Promise<void>;
}

export async function startManagementApi(options: { domain?: string } = {}): Promise<ManagementApiStandIn> {
  const domain = options.domain ?? 'tenant.example.auth0.com';
  const client = { id: `mgmt-${randomBytes(4).toString('hex')}`, secret: randomBytes(18).toString('base64url') };
  let token = randomBytes(24).toString('base64url');
  const calls: RecordedCall[] = [];
  const actions = new Map<string, StoredAction>();
  const bindings: Binding[] = [];
  const failures: Array<{ suffix: string; status: number; headers: Record<string, string>; times: number }> = [];
  const hangs: Array<{ suffix: string; times: number }> = [];
  let beforePatchAnswer: (() => Promise<void>) | undefined;
  let heldPatch: { applyLate(): void; apply?: () => void } | undefined;
  let failBuild = false;

  const app = express();
  app.use(express.json({ limit: '1mb' }), express.urlencoded({ extended: false }));
  app.use((req, res, next) => {
    calls.push({ method: req.method, path: req.path, query: { ...req.query }, body: req.body });
    const hang = hangs.find((candidate) => req.path.endsWith(candidate.suffix) && candidate.times > 0);
    if (hang) {
      hang.times -= 1;
      return; // no answer: the socket stays open until the client gives up or the stand-in closes
    }
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
  const usersStore = users;
  // users-exports jobs. POST answers 201 with the job pending; GET /jobs/{id} answers the job object of
  // Auth0's "Get a job" (auth0.com/docs/api/management/v2/jobs/get-jobs-by-id; node-auth0
  // GetJobResponseContent): status, type, id, created_at, format, and while it runs percentage_done and
  // time_left_seconds; `location` once completed; `status_details` when failed. An unknown (or expired)
  // job is a 404. The download link is short-lived (60 s per Auth0's bulk user export docs); an expired
  // one is refused with 403, as a pre-signed S3 URL is.
  const jobs = new Map<string, ExportJob>();
  let failExport = false;
  let holdExports = false;
  let expiredLinks = 0;
  api.post('/jobs/users-exports', (req, res) => {
    const id = `job_${randomBytes(8).toString('hex')}`;
    const job: ExportJob = { id, polls: 2, fields: (req.body as { fields: Array<{ name: string; export_as?: string }> }).fields, failed: failExport, held: holdExports, createdAt: new Date().toISOString() };
    jobs.set(id, job);
    failExport = false;
    res.status(201).json({ id, type: 'users_export', status: 'pending', format: 'json', created_at: job.createdAt });
  });
  // Connections: list by name/strategy (checkpoint pagination), get, create, and PATCH, which
  // replaces `options` as a whole, as Auth0's does.
  const connections = new Map<string, StoredConnection>();
  api.get('/connections', (req, res) => {
    const strategies = ([] as unknown[]).concat(req.query.strategy ?? []);
    const found = [...connections.values()].filter((connection) => (!req.query.name || connection.name === req.query.name) && (strategies.length === 0 || strategies.includes(connection.strategy)));
    res.json({ connections: found });
  });
  api.get('/connections/:id', (req, res) => {
    const connection = connections.get(req.params.id);
    if (!connection) return void res.status(404).json({ statusCode: 404, message: 'The connection does not exist' });
    res.json(connection);
  });
  api.post('/connections', (req, res) => {
    const body = req.body as StoredConnection;
    if ([...connections.values()].some((connection) => connection.name === body.name)) return void res.status(409).json({ statusCode: 409, message: 'A connection with the same name already exists' });
    const connection: StoredConnection = { id: `con_${randomBytes(8).toString('hex')}`, name: body.name, strategy: body.strategy, options: body.options ?? {}, enabled_clients: body.enabled_clients ?? [] };
    connections.set(connection.id, connection);
    res.status(201).json(connection);
  });
  api.patch('/connections/:id', (req, res) => {
    const connection = connections.get(req.params.id);
    if (!connection) return void res.status(404).json({ statusCode: 404, message: 'The connection does not exist' });
    const body = req.body as Partial<StoredConnection>;
    if (body.options) connection.options = body.options;
    if (body.enabled_clients) connection.enabled_clients = body.enabled_clients;
    res.json(connection);
  });

  // users-imports: a multipart upload (users file, connection_id, upsert...). Users already in the
  // connection are not touched without upsert, and reported as DUPLICATED_USER in the job's errors.
  const importJobs = new Map<string, ImportJob>();
  let nextImportErrorsAnswer: { reportFailures: number } | undefined;
  api.post('/jobs/users-imports', express.raw({ type: 'multipart/form-data', limit: '2mb' }), (req, res) => {
    const form = parseMultipart(req.headers['content-type'] ?? '', req.body as Buffer);
    const file = form.get('users');
    const connection = connections.get(String(form.get('connection_id') ?? ''));
    if (!file) return void res.status(400).json({ statusCode: 400, message: 'Missing users file' });
    if (file.length > 500 * 1024) return void res.status(413).json({ statusCode: 413, message: 'The users file is larger than 500 KB' });
    if (!connection) return void res.status(400).json({ statusCode: 400, message: 'The connection does not exist' });
    let users: Array<Record<string, unknown>>;
    try {
      users = JSON.parse(file.toString('utf8')) as Array<Record<string, unknown>>;
      if (!Array.isArray(users)) throw new Error('not an array');
    } catch {
      return void res.status(400).json({ statusCode: 400, message: 'Users file must be a JSON array' });
    }
    const upsert = String(form.get('upsert') ?? 'false') === 'true';
    const errorsAnswer = nextImportErrorsAnswer ? 'job-object' : 'per-user';
    const job: ImportJob = { id: `job_${randomBytes(8).toString('hex')}`, connection_id: connection.id, upsert, users, errors: [], polls: 2, errorsAnswer };
    const unlistedFailures = nextImportErrorsAnswer?.reportFailures ?? 0;
    nextImportErrorsAnswer = undefined;
    for (const [index, user] of users.entries()) {
      const hashErrors = user.custom_password_hash === undefined ? [] : checkCustomPasswordHash(user.custom_password_hash);
      if (hashErrors.length > 0) {
        job.errors.push({ user, errors: hashErrors });
        continue;
      }
      // Failures the job's summary counts but its errors answer (the job object) does not list: these users are
      // not created. The entry only feeds the summary's count; with the job object it is never answered.
      if (index < unlistedFailures) {
        job.errors.push({ user, errors: [{ code: 'UNLISTED', message: 'counted by the summary only' }] });
        continue;
      }
      const userId = `auth0|${String(user.user_id)}`;
      const existing = usersStore.find((candidate) => candidate.user_id === userId);
      if (existing && !upsert) {
        job.errors.push({ user, errors: [{ code: 'DUPLICATED_USER', message: 'The user already exists.' }] });
        continue;
      }
      const { custom_password_hash: customPasswordHash, ...profile } = user;
      const stored = { ...profile, user_id: userId, identities: [{ connection: connection.name, provider: 'auth0', user_id: String(user.user_id), isSocial: false }], custom_password_hash: customPasswordHash, updated_at: new Date().toISOString() };
      if (existing) Object.assign(existing, stored);
      else usersStore.push(stored);
    }
    importJobs.set(job.id, job);
    res.status(202).json({ id: job.id, type: 'users_import', status: 'pending', connection_id: connection.id, created_at: new Date().toISOString() });
  });
  // GET /jobs/{id}/errors (Management API reference, jobs/get-errors; auth0 SDK v7 ErrorsGetResponse): 200 with
  // either an array of { user, errors: [{ code, message, path }] } or the job object (status, type, id,
  // connection_id, created_at, status_details), and 204 when the job has no errors.
  api.get('/jobs/:id/errors', (req, res) => {
    const job = importJobs.get(req.params.id);
    if (!job) return void res.status(404).json({ statusCode: 404, message: 'Job not found' });
    if (job.errorsAnswer === 'job-object') {
      return void res.json({ status: 'completed', type: 'users_import', created_at: new Date().toISOString(), id: job.id, connection_id: job.connection_id, status_details: `${job.errors.length} users failed` });
    }
    if (job.errors.length === 0) return void res.status(204).end();
    res.json(job.errors);
  });

  api.get('/jobs/:id', (req, res, next) => {
    const importJob = importJobs.get(req.params.id);
    if (!importJob) return next();
    importJob.polls -= 1;
    const status = importJob.polls > 0 ? 'processing' : 'completed';
    res.json({
      id: importJob.id,
      type: 'users_import',
      status,
      connection_id: importJob.connection_id,
      ...(status === 'completed' ? { summary: { failed: importJob.errors.length, updated: 0, inserted: importJob.users.length - importJob.errors.length, total: importJob.users.length } } : {}),
    });
  });
  api.get('/jobs/:id', (req, res) => {
    const job = jobs.get(req.params.id);
    if (!job) return void res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'Job not found' });
    if (!job.held) job.polls -= 1;
    const status = job.polls > 0 ? 'processing' : job.failed ? 'failed' : 'completed';
    const base = { id: job.id, type: 'users_export', status, format: 'json', created_at: job.createdAt };
    if (status === 'processing') return void res.json({ ...base, percentage_done: job.held ? 40 : 80, time_left_seconds: job.held ? 5400 : 3 });
    if (status === 'failed') return void res.json({ ...base, status_details: 'The export job failed; please try again.' });
    const expiresAt = expiredLinks > 0 ? Date.now() - 1 : Date.now() + 60_000;
    expiredLinks = Math.max(0, expiredLinks - 1);
    res.json({ ...base, location: `${origin()}/exports/${job.id}.json.gz?expires=${expiresAt}` });
  });
  app.get('/exports/:file', (req, res) => {
    const job = jobs.get(req.params.file.replace('.json.gz', ''));
    if (!job) return void res.status(404).end();
    if (Number(req.query.expires) < Date.now()) return void res.status(403).type('application/xml').send('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
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

  // Users: the same endpoints, answers and refusals as the dev server's local Management API
  // (src/action-runtime/management-users-endpoints.ts, where each answer's Auth0 source is cited).
  api.use(
    managementUsersEndpoints(
      {
        transact: (work) =>
          work({
            find: (id) => users.find((user) => user.user_id === id) as ManagementUser | undefined,
            put: (changed) => {
              // In place: a test may hold the user object it seeded.
              const stored = users.find((user) => user.user_id === changed.user_id);
              if (stored) Object.assign(stored, changed);
            },
            remove: (id) => {
              const index = users.findIndex((user) => user.user_id === id);
              if (index >= 0) users.splice(index, 1);
            },
          }),
      },
      {
        afterPatch: async () => {
          const hook = beforePatchAnswer;
          beforePatchAnswer = undefined;
          if (hook) await hook();
        },
        profileSync: (name) => [...connections.values()].find((connection) => connection.name === name)?.options.set_user_root_attributes as string | undefined,
        holdPatch: () => {
          const held = heldPatch;
          heldPatch = undefined;
          return held && ((applyLate) => void (held.apply = applyLate));
        },
      },
    ),
  );
  app.use('/api/v2', api);

  const origin = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const listeningOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin: listeningOrigin,
    domain,
    client,
    env: { AUTH0_DOMAIN: domain, AUTH0_MANAGEMENT_ORIGIN: listeningOrigin, AUTH0_MGMT_CLIENT_ID: client.id, AUTH0_MGMT_CLIENT_SECRET: client.secret },
    calls,
    actions,
    bindings,
    users,
    connections,
    importJobs,
    failNextExport: () => void (failExport = true),
    holdExports: () => void (holdExports = true),
    releaseExports: () => {
      holdExports = false;
      for (const job of jobs.values()) job.held = false;
    },
    expireNextExportLinks: (times) => void (expiredLinks = times),
    failNextBuild: () => void (failBuild = true),
    answerNextImportErrorsWithJob: (options = {}) => void (nextImportErrorsAnswer = { reportFailures: options.reportFailures ?? 0 }),
    failRequests: (suffix, status, headers = {}, times = 100) => void failures.push({ suffix, status, headers, times }),
    hangRequests: (suffix, times = 1) => void hangs.push({ suffix, times }),
    rotateToken: () => void (token = randomBytes(24).toString('base64url')),
    beforeNextUserPatchAnswer: (hook) => void (beforePatchAnswer = hook),
    holdNextUserPatch: () => {
      const held: { applyLate(): void; apply?: () => void } = {
        applyLate: () => {
          if (!held.apply) throw new Error('the held PATCH has not arrived yet');
          held.apply();
        },
      };
      heldPatch = held;
      return held;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The fields of a multipart/form-data body, each as its raw bytes. */
function parseMultipart(contentType: string, body: Buffer): Map<string, Buffer> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const fields = new Map<string, Buffer>();
  if (!boundary || !Buffer.isBuffer(body)) return fields;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    const name = /name="([^"]+)"/.exec(part.subarray(0, headerEnd).toString('utf8'))?.[1];
    if (name && headerEnd !== -1) fields.set(name, part.subarray(headerEnd + 4));
    start = next;
  }
  return fields;
}
