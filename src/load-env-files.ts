// Preloaded by every npm script (`node --import ./src/load-env-files.ts ...`): the .env files, before any module reads the environment.
import { loadEnvFiles } from './env-files';

// npm runs every script at the project root, the directory the config resolves `.data/` against too.
loadEnvFiles(process.cwd());
