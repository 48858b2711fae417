// The users-export job of users:backfill: created once, remembered in sync_checkpoints, waited on (across runs) until Auth0 finishes it.
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagementError, type ManagementClient } from 'auth0';
import type { PrismaClient } from '../db/prisma';

const CHECKPOINT = 'users:backfill';

/** What GET /api/v2/jobs/{id} answers (node-auth0 GetJobResponseContent; Management API "Get a job"). */
interface JobState {
  id: string;
  status: string;
  created_at?: string;
  location?: string;
  percentage_done?: number;
  time_left_seconds?: number;
  status_details?: string;
}

export class ExportJobError extends Error {
  override name = 'ExportJobError';
}

/** Thrown when the wait is interrupted (SIGTERM, Ctrl-C): the job keeps running in Auth0 and is remembered. */
export class ExportWaitInterrupted extends Error {
  override name = 'ExportWaitInterrupted';
  constructor(readonly jobId: string) {
    super(`stopped waiting; export job ${jobId} keeps running in Auth0, and the next users:backfill waits on it`);
  }
}

export interface ExportJobOptions {
  management: ManagementClient;
  prisma: PrismaClient;
  say(line: string): void;
  /** Creates the job when no remembered job can be waited on. */
  create(): Promise<{ id?: string; created_at?: string }>;
  pollIntervalMs: number;
  /** How long after the job's creation we stop waiting (Auth0 itself fails an export after hours). */
  maxWaitMs: number;
  signal?: AbortSignal;
}

/** Waits for the remembered export job, or a new one, to complete, and answers its download location, read just now. */
export async function completedExportLocation(options: ExportJobOptions): Promise<{ jobId: string; location: string }> {
  const job = await rememberedJob(options) ?? (await createJob(options));
  const location = await waitForJob(options, job);
  return { jobId: job.id, location };
}

/** Re-reads the location of a completed job: Auth0's download link lives 60 s. */
export async function freshLocation(management: ManagementClient, jobId: string): Promise<string> {
  const state = (await management.jobs.get(jobId)) as JobState;
  if (state.status !== 'completed' || !state.location) throw new ExportJobError(`the export job ${jobId} is "${state.status}" without a download location`);
  return state.location;
}

/** The export job is done with (imported, or failed in Auth0): the next run starts a new one. */
export async function forgetExportJob(prisma: PrismaClient): Promise<void> {
  await prisma.syncCheckpoint.deleteMany({ where: { name: CHECKPOINT } });
}

async function rememberedJob(options: ExportJobOptions): Promise<{ id: string; createdAt: Date } | undefined> {
  const saved = await options.prisma.syncCheckpoint.findUnique({ where: { name: CHECKPOINT } });
  if (!saved?.jobId) return undefined;
  try {
    const state = (await options.management.jobs.get(saved.jobId)) as JobState;
    if (state.status !== 'failed') {
      options.say(`resuming: waiting on export job ${saved.jobId}, created ${saved.value.toISOString()}`);
      return { id: saved.jobId, createdAt: saved.value };
    }
    options.say(`the export job ${saved.jobId} failed in Auth0${state.status_details ? ` (${state.status_details})` : ''}; starting a new one`);
  } catch (error) {
    // Auth0 forgets finished jobs after a while: 404, nothing to wait on.
    if (!(error instanceof ManagementError && error.statusCode === 404)) throw error;
    options.say(`the export job ${saved.jobId} is no longer known to Auth0; starting a new one`);
  }
  await forgetExportJob(options.prisma);
  return undefined;
}

async function createJob(options: ExportJobOptions): Promise<{ id: string; createdAt: Date }> {
  const job = await options.create();
  if (!job.id) throw new ExportJobError('Auth0 created an export job without an id');
  const createdAt = job.created_at ? new Date(job.created_at) : new Date();
  const at = Number.isNaN(createdAt.getTime()) ? new Date() : createdAt;
  // Remembered before the first wait: an interruption from here on resumes this job.
  await options.prisma.syncCheckpoint.upsert({
    where: { name: CHECKPOINT },
    create: { name: CHECKPOINT, value: at, jobId: job.id },
    update: { value: at, jobId: job.id },
  });
  options.say(`export job ${job.id} created`);
  return { id: job.id, createdAt: at };
}

async function waitForJob(options: ExportJobOptions, job: { id: string; createdAt: Date }): Promise<string> {
  const { management, say, signal } = options;
  const deadline = job.createdAt.getTime() + options.maxWaitMs;
  let lastProgress = '';
  for (;;) {
    if (signal?.aborted) throw new ExportWaitInterrupted(job.id);
    const state = (await management.jobs.get(job.id)) as JobState;
    if (state.status === 'completed') {
      if (!state.location) throw new ExportJobError(`the export job ${job.id} completed without a download location`);
      return state.location;
    }
    if (state.status === 'failed') {
      await forgetExportJob(options.prisma);
      throw new ExportJobError(
        `the export job ${job.id} failed in Auth0${state.status_details ? ` (${state.status_details})` : ''}; look at it under Monitoring > Logs, then run users:backfill again`,
      );
    }
    if (Date.now() > deadline) {
      throw new ExportJobError(
        `the export job ${job.id} was still "${state.status}" ${Math.round((Date.now() - job.createdAt.getTime()) / 60_000)} min after its creation (BACKFILL_MAX_WAIT_MINUTES); it keeps running in Auth0, and the next users:backfill waits on it`,
      );
    }
    const progress = describeProgress(state);
    if (progress !== lastProgress) say(`export job ${job.id}: ${progress}`);
    lastProgress = progress;
    try {
      await sleep(options.pollIntervalMs, undefined, { signal });
    } catch {
      throw new ExportWaitInterrupted(job.id);
    }
  }
}

function describeProgress(state: JobState): string {
  const parts = [state.status];
  if (typeof state.percentage_done === 'number') parts.push(`${state.percentage_done}% done`);
  if (typeof state.time_left_seconds === 'number' && state.time_left_seconds > 0) parts.push(`about ${formatSeconds(state.time_left_seconds)} left`);
  return parts.join(', ');
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
