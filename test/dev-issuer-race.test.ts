// Processes started together on an empty DEV_ISSUER_DIR end up with one key and one dev client.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Identity = { kid?: string; clientId?: string; error?: string };

function startRacer(): { child: ChildProcess; ready: Promise<void>; identity: Promise<Identity> } {
  const child = fork(path.join(__dirname, 'support/dev-issuer-state-process.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`racer exited (${code}) before answering`))));
  const ready = Promise.race([new Promise<void>((resolve) => child.once('message', () => resolve())), exited]);
  const identity = ready.then(() => Promise.race([new Promise<Identity>((resolve) => child.once('message', resolve)), exited]));
  return { child, ready, identity };
}

describe('the dev issuer state', () => {
  it('is one identity for six processes that create it at the same moment in an empty directory', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dev-issuer-race-')), 'issuer');
    const racers = Array.from({ length: 6 }, startRacer);
    try {
      // Every racer has loaded its modules before any is told to go, so they really race.
      await Promise.all(racers.map((racer) => racer.ready));
      for (const racer of racers) racer.child.send(dir);
      const identities = await Promise.all(racers.map((racer) => racer.identity));

      expect(identities.filter((identity) => identity.error)).toEqual([]);
      const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'issuer.json'), 'utf8')) as { kid: string; client: { id: string } };
      expect(new Set(identities.map((identity) => `${identity.kid} ${identity.clientId}`))).toEqual(new Set([`${onDisk.kid} ${onDisk.client.id}`]));
      expect(fs.readdirSync(dir)).toEqual(['issuer.json']);
      expect(fs.statSync(path.join(dir, 'issuer.json')).mode & 0o777).toBe(0o600);
    } finally {
      for (const racer of racers) racer.child.kill('SIGKILL');
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
