// Generates the Prisma client and the GraphQL resolver types; run by postinstall, pretest and prestart.
// It does the work only when an input changed since the last run (`--force` always does it), so
// that `npm start` after an edit of schema.prisma or a .graphql file runs on fresh code, and costs
// nothing otherwise.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const stampFile = join(root, 'src', 'generated', '.inputs.sha256');
const outputs = [join(root, 'src', 'generated', 'graphql.ts'), join(root, 'src', 'generated', 'prisma', 'client.ts')];

/** Every file the generated code depends on, and the versions of the generators themselves. */
function inputsDigest() {
  const hash = createHash('sha256');
  const add = (file) => hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  add(join(root, 'prisma', 'schema.prisma'));
  add(join(root, 'codegen.ts'));
  for (const file of graphqlFiles(join(root, 'src', 'modules'))) add(file);
  for (const pkg of ['prisma', '@prisma/client', '@graphql-codegen/cli', '@graphql-codegen/typescript-resolvers']) {
    add(join(root, 'node_modules', pkg, 'package.json'));
  }
  return hash.digest('hex');
}

function graphqlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.graphql'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

const digest = inputsDigest();
const upToDate = outputs.every((file) => existsSync(file)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest;
if (upToDate && !process.argv.includes('--force')) process.exit(0);

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
writeFileSync(stampFile, digest);
