// A Postgres of a test's own, to stop and start at will (never the run's shared one).
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface OwnPostgres {
  connectionString: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

type Reply = { ready?: string; done?: string; failed?: string; reason?: string };

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'own-pg-'));
  fs.chmodSync(dir, 0o777);
  const controller: ChildProcess = fork(path.join(__dirname, 'postgres-controller.ts'), [path.join(dir, 'data'), String(await freePort())], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      controller.once('message', (reply: Reply) => (reply.failed ? reject(new Error(`${reply.failed} failed: ${reply.reason}`)) : resolve(reply)));
      controller.once('exit', (code) => reject(new Error(`postgres controller exited (${code})`)));
    });
  const { ready } = await next();
  const command = async (name: 'stop' | 'start') => {
    const reply = next();
    controller.send(name);
    await reply;
  };
  return {
    connectionString: ready!,
    stop: () => command('stop'),
    start: () => command('start'),
    destroy: async () => {
      const exited = new Promise((resolve) => controller.once('exit', resolve));
      controller.send('exit');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
