// .env.example documents every setting: a new one cannot be added without its line there, and no line outlives its setting.
import fs from 'node:fs';
import path from 'node:path';
import { SETTING_NAMES } from '../src/config';

const ROOT = path.join(__dirname, '..');
const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(full);
    return /\.(ts|js)$/.test(entry.name) ? [full] : [];
  });
}

it('every setting of the config has its line in .env.example', () => {
  expect(SETTING_NAMES.length).toBeGreaterThan(30);
  expect(SETTING_NAMES.filter((name) => !documented.has(name))).toEqual([]);
});

it('every setting in .env.example is read somewhere (the config, a command, the tunnel)', () => {
  const code = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'actions'))].map((file) => fs.readFileSync(file, 'utf8')).join('\n');
  expect(documented.size).toBeGreaterThan(SETTING_NAMES.length);
  expect([...documented].filter((name) => !new RegExp(`\\b${name}\\b`).test(code))).toEqual([]);
});
