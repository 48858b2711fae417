// Generates the Prisma client and the GraphQL resolver types; run by postinstall, pretest and prestart.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// `prisma generate` insists on finding its native schema engine although it never runs it
// (the client runs on @prisma/adapter-pg). Where the engine could not be downloaded (no
// access to Prisma's binary CDN), any existing file satisfies that check. A machine that has
// the real engine keeps using it.
const env = { ...process.env };
const enginesDir = join(root, 'node_modules', '@prisma', 'engines');
const hasSchemaEngine =
  existsSync(enginesDir) && readdirSync(enginesDir).some((file) => file.startsWith('schema-engine'));
if (!hasSchemaEngine && !env.PRISMA_SCHEMA_ENGINE_BINARY) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}

const run = (command, args) => execFileSync(command, args, { cwd: root, env, stdio: 'inherit' });
run(bin('prisma'), ['generate']);
run(bin('graphql-codegen'), ['--config', 'codegen.ts']);
