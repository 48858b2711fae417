// What a finished users-imports job says about its users: GET /jobs/{id}/errors answers per-user errors, the job object, or 204.
import type { ManagementClient } from 'auth0';

// The endpoint's documented answers (Management API reference jobs/get-errors; auth0 SDK v7 `ErrorsGetResponse` =
// `GetJobErrorResponseContent[] | GetJobGenericErrorResponseContent`): 200 with an array of
// { user, errors: [{ code, message, path }] }, 200 with the job object itself (status, type, id, connection_id,
// status_details), or 204 when the job has no errors (the SDK then resolves with no body).
export type ImportJobErrors =
  | { kind: 'per-user'; users: Array<{ legacyId: string; codes: string[]; reason: string }> }
  | { kind: 'job'; status: string; details: string };

interface PerUserError {
  user?: { user_id?: unknown };
  errors?: Array<{ code?: string; message?: string; path?: string }>;
}

export async function readImportJobErrors(management: ManagementClient, jobId: string): Promise<ImportJobErrors> {
  const answer: unknown = await management.jobs.errors.get(jobId);
  if (answer === undefined || answer === null || answer === '') return { kind: 'per-user', users: [] };
  if (Array.isArray(answer)) {
    return {
      kind: 'per-user',
      users: (answer as PerUserError[]).map((entry) => {
        const errors = entry.errors ?? [];
        return {
          legacyId: String(entry.user?.user_id ?? ''),
          codes: errors.map((error) => String(error.code)),
          reason: errors.map((error) => `${error.code}: ${error.message}`).join('; ') || 'unknown error',
        };
      }),
    };
  }
  if (typeof answer === 'object' && typeof (answer as { status?: unknown }).status === 'string') {
    const job = answer as { status: string; status_details?: unknown };
    return { kind: 'job', status: job.status, details: typeof job.status_details === 'string' ? job.status_details : '' };
  }
  throw new Error(`GET /jobs/${jobId}/errors answered neither a list of users nor a job`);
}
