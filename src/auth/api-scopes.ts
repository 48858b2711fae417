// The scopes this API knows: one list that the Auth0 set-up, the development issuer and `npm run token` all read.
import type { Config } from '../config';

/** Each scope of the API under its default name, with what it allows (as `action:deploy --create-resources` registers them). */
export const API_SCOPES: Array<{ value: string; description: string }> = [
  { value: 'create:users', description: 'Provision users (addUser)' },
  { value: 'read:users', description: 'Read users' },
  { value: 'read:transactions', description: "Read any user's transactions" },
  { value: 'migrate:users', description: 'Check legacy passwords and look legacy users up (custom database scripts)' },
  { value: 'update:users', description: 'Change users in Auth0 and the database (updateUser)' },
  { value: 'delete:users', description: 'Delete users in Auth0 and mark them deleted (deleteUser)' },
];

/** The scopes under the names this configuration gives them (each AUTH0_*_SCOPE setting may rename one). */
export function configuredApiScopes(auth: Config['auth']): string[] {
  return [auth.createUsersScope, auth.readUsersScope, auth.readTransactionsScope, auth.migrateUsersScope, auth.updateUsersScope, auth.deleteUsersScope];
}
