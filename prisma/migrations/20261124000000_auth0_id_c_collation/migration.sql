-- Auth0 ids are compared byte by byte ("C"), not by the database's locale: every write and lookup
-- by Auth0 id descends the unique index on it, and a locale's comparison (strcoll) is several times
-- the cost of memcmp. Equality is the same in both (the database's collation is deterministic), and
-- nothing orders users by Auth0 id. user_changes.auth0_id follows, so that the two still compare.
-- The table is not rewritten; the two indexes on these columns are rebuilt.
ALTER TABLE "users" ALTER COLUMN "auth0_id" TYPE VARCHAR(255) COLLATE "C";
ALTER TABLE "user_changes" ALTER COLUMN "auth0_id" TYPE VARCHAR(255) COLLATE "C";
