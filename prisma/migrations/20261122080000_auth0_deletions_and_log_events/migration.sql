-- AlterTable
ALTER TABLE "users" ADD COLUMN     "deleted_at" TIMESTAMPTZ(3),
ADD COLUMN     "last_event_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "auth0_log_events" (
    "log_id" VARCHAR(64) NOT NULL,
    "type" VARCHAR(16) NOT NULL,
    "user_id" VARCHAR(255),
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "auth0_log_events_pkey" PRIMARY KEY ("log_id")
);
