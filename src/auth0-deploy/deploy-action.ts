// Deploys the Post Login Action through the Management API: create or update, secrets, build, deploy, bind.
import { createHash } from 'node:crypto';
import { ManagementClient } from 'auth0';

export const TRIGGER = 'post-login';
export const RUNTIME = 'node22';
const FINGERPRINT = /\n\/\/ deploy-fingerprint: [0-9a-f]{64}\n?$/;

export interface DeployOptions {
  management: ManagementClient;
  name: string;
  code: string;
  secrets: Record<string, string>;
  /** Progress lines for the terminal; never receives a secret value. */
  say(line: string): void;
  /** Between build-status polls. */
  pollIntervalMs?: number;
  buildTimeoutMs?: number;
}

export interface DeployResult {
  actionId: string;
  changed: { action: boolean; deployed: boolean; bound: boolean };
}

export class DeployError extends Error {
  override name = 'DeployError';
}

/**
 * Idempotent: the deployed code carries a fingerprint of the code and the secret values (which the
 * Management API never returns), so a second run with the same inputs changes nothing.
 */
export async function deployAction(options: DeployOptions): Promise<DeployResult> {
  const { management, name, say } = options;
  const code = `${options.code.replace(FINGERPRINT, '').trimEnd()}\n// deploy-fingerprint: ${fingerprint(options.code, options.secrets)}\n`;
  const secrets = Object.entries(options.secrets).map(([secretName, value]) => ({ name: secretName, value }));

  const existing = await findAction(management, name);
  let actionId: string;
  let changedAction = false;
  if (!existing) {
    const created = await management.actions.create({ name, code, runtime: RUNTIME, secrets, dependencies: [], supported_triggers: [{ id: TRIGGER, version: 'v3' }] });
    actionId = created.id!;
    changedAction = true;
    say(`created Action "${name}" (${actionId}) with ${secrets.length} secrets`);
  } else if (existing.code !== code || existing.runtime !== RUNTIME) {
    actionId = existing.id!;
    await management.actions.update(actionId, { code, runtime: RUNTIME, secrets, dependencies: [] });
    changedAction = true;
    say(`updated Action "${name}" (${actionId}): code or secrets changed`);
  } else {
    actionId = existing.id!;
    say(`Action "${name}" (${actionId}) is up to date`);
  }

  let deployed = false;
  const current = changedAction ? await waitUntilBuilt(options, actionId) : existing!;
  if (changedAction || !current.all_changes_deployed) {
    await management.actions.deploy(actionId);
    deployed = true;
    say('deployed');
  }

  const bound = await bindToTrigger(management, actionId, name, say);
  return { actionId, changed: { action: changedAction, deployed, bound } };
}

function fingerprint(code: string, secrets: Record<string, string>): string {
  const hash = createHash('sha256').update(code.replace(FINGERPRINT, '').trimEnd());
  for (const key of Object.keys(secrets).sort()) hash.update(`\0${key}\0${secrets[key]}`);
  return hash.digest('hex');
}

async function findAction(management: ManagementClient, name: string) {
  const page = await management.actions.list({ actionName: name, triggerId: TRIGGER });
  const found = page.data.find((action) => action.name === name);
  return found ? management.actions.get(found.id!) : undefined;
}

async function waitUntilBuilt(options: DeployOptions, actionId: string) {
  const deadline = Date.now() + (options.buildTimeoutMs ?? 60_000);
  for (;;) {
    const action = await options.management.actions.get(actionId);
    if (action.status === 'built') return action;
    if (action.status === 'failed') throw new DeployError(`Auth0 could not build the Action (status "failed"). Check its code in the dashboard: Actions > Library > ${options.name}.`);
    if (Date.now() > deadline) throw new DeployError(`the Action was still "${action.status}" after ${(options.buildTimeoutMs ?? 60_000) / 1000} s; try again later`);
    await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 1000));
  }
}

/** Appends the Action to the post-login flow, keeping the Actions already bound and their order. */
async function bindToTrigger(management: ManagementClient, actionId: string, name: string, say: (line: string) => void): Promise<boolean> {
  const page = await management.actions.triggers.bindings.list(TRIGGER);
  const bindings = page.data;
  if (bindings.some((binding) => binding.action?.id === actionId)) {
    say(`already bound to the ${TRIGGER} trigger (position ${bindings.findIndex((binding) => binding.action?.id === actionId) + 1} of ${bindings.length})`);
    return false;
  }
  await management.actions.triggers.bindings.updateMany(TRIGGER, {
    bindings: [
      ...bindings.map((binding) => ({ ref: { type: 'action_id' as const, value: binding.action!.id! }, display_name: binding.display_name })),
      { ref: { type: 'action_id' as const, value: actionId }, display_name: name },
    ],
  });
  say(`bound to the ${TRIGGER} trigger after ${bindings.length} existing Action(s)`);
  return true;
}
