-- AlterTable
ALTER TABLE "users" ADD COLUMN     "blocked" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "app_metadata" JSONB,
ADD COLUMN     "user_metadata" JSONB,
ADD COLUMN     "auth0_updated_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "user_changes" (
    "id" BIGSERIAL NOT NULL,
    "auth0_id" VARCHAR(255) NOT NULL,
    "source" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "changes" JSONB NOT NULL,
    "previous" JSONB,
    "error" VARCHAR(2000),
    "error_status" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_changes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "user_changes_status_next_attempt_at_idx" ON "user_changes"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "user_changes_auth0_id_id_idx" ON "user_changes"("auth0_id", "id");

-- Changes to the synced columns made by the app (psql, its ORM) are recorded for the push worker.
-- The sync's own writes (addUser, import, reconcile, the log stream, the write-back) run with
-- auth0_sync.writer = 'sync' (set_config(..., true) in their transaction, or on the sync pool's
-- connections), so the WHEN clause skips them before the function is called.
CREATE FUNCTION "users_record_app_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb := '{}'::jsonb;
    previous jsonb := '{}'::jsonb;
BEGIN
    -- Never pushed: a user Auth0 deleted, and a legacy user not migrated to Auth0 yet (issue 12:
    -- a row that still holds a password hash has no Auth0 account to push to).
    IF NEW.deleted_at IS NOT NULL OR (to_jsonb(NEW) ->> 'password_hash') IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF (OLD.email, OLD.email_verified, OLD.name, OLD.picture, OLD.blocked, OLD.app_metadata, OLD.user_metadata)
       IS NOT DISTINCT FROM (NEW.email, NEW.email_verified, NEW.name, NEW.picture, NEW.blocked, NEW.app_metadata, NEW.user_metadata) THEN
        RETURN NULL;
    END IF;
    IF NEW.email IS DISTINCT FROM OLD.email THEN
        changed := changed || jsonb_build_object('email', NEW.email);
        previous := previous || jsonb_build_object('email', OLD.email);
    END IF;
    IF NEW.email_verified IS DISTINCT FROM OLD.email_verified THEN
        changed := changed || jsonb_build_object('email_verified', NEW.email_verified);
        previous := previous || jsonb_build_object('email_verified', OLD.email_verified);
    END IF;
    IF NEW.name IS DISTINCT FROM OLD.name THEN
        changed := changed || jsonb_build_object('name', NEW.name);
        previous := previous || jsonb_build_object('name', OLD.name);
    END IF;
    IF NEW.picture IS DISTINCT FROM OLD.picture THEN
        changed := changed || jsonb_build_object('picture', NEW.picture);
        previous := previous || jsonb_build_object('picture', OLD.picture);
    END IF;
    IF NEW.blocked IS DISTINCT FROM OLD.blocked THEN
        changed := changed || jsonb_build_object('blocked', NEW.blocked);
        previous := previous || jsonb_build_object('blocked', OLD.blocked);
    END IF;
    IF NEW.app_metadata IS DISTINCT FROM OLD.app_metadata THEN
        changed := changed || jsonb_build_object('app_metadata', NEW.app_metadata);
        previous := previous || jsonb_build_object('app_metadata', OLD.app_metadata);
    END IF;
    IF NEW.user_metadata IS DISTINCT FROM OLD.user_metadata THEN
        changed := changed || jsonb_build_object('user_metadata', NEW.user_metadata);
        previous := previous || jsonb_build_object('user_metadata', OLD.user_metadata);
    END IF;
    INSERT INTO user_changes (auth0_id, source, status, changes, previous)
    VALUES (NEW.auth0_id, 'sql', 'pending', changed, previous);
    PERFORM pg_notify('user_changes', NEW.auth0_id);
    RETURN NULL;
END
$$;

-- The WHEN clause names no column, so that later migrations may still alter the columns' types.
CREATE TRIGGER "users_record_app_change"
    AFTER UPDATE ON "users"
    FOR EACH ROW
    WHEN (current_setting('auth0_sync.writer', true) IS DISTINCT FROM 'sync')
    EXECUTE FUNCTION "users_record_app_change"();
