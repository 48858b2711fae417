-- Legacy users (issue 12): a row that exists before its Auth0 user does. Its auth0_id is already
-- the id Auth0 will give it (`auth0|<legacy id>`), so the first addUser lands on this same row.

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "legacy_id" VARCHAR(200),
ADD COLUMN     "password_hash" VARCHAR(1024),
ADD COLUMN     "migrated_at" TIMESTAMPTZ(3),
ADD COLUMN     "legacy_user_metadata" JSONB,
ADD COLUMN     "legacy_app_metadata" JSONB;

-- CreateIndex
CREATE UNIQUE INDEX "users_legacy_id_key" ON "users"("legacy_id");

-- The login script looks legacy users up by email: one legacy row per address, case-insensitively.
-- (A partial expression index: schema.prisma cannot state it; keep it when Prisma proposes to drop it.)
CREATE UNIQUE INDEX "users_legacy_email_key" ON "users"(lower("email")) WHERE "legacy_id" IS NOT NULL;

-- CreateIndex
CREATE INDEX "users_migrated_at_idx" ON "users"("migrated_at");
