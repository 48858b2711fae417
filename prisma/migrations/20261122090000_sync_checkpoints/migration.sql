-- CreateTable
CREATE TABLE "sync_checkpoints" (
    "name" VARCHAR(64) NOT NULL,
    "value" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_checkpoints_pkey" PRIMARY KEY ("name")
);
