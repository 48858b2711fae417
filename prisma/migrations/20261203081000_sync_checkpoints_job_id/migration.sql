-- users:backfill remembers the Auth0 export job it waits on, so that an interrupted run waits on the
-- same job next time instead of starting another (a large tenant's export runs for hours).
ALTER TABLE "sync_checkpoints" ADD COLUMN "job_id" VARCHAR(64);
