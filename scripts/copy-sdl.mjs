// Copies the SDL files next to the compiled resolvers, where src/schema.ts looks for them.
import { cpSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
cpSync(join(root, 'src', 'modules'), join(root, 'dist', 'modules'), {
  recursive: true,
  filter: (source) => !/\.ts$/.test(source),
});
