// Recognizes Auth0's refusal to change profile attributes that a social or enterprise connection syncs at each login, and says it plainly.
import type { Auth0Refused } from './auth0-users-api';

/**
 * Auth0's refusal, parsed. While a connection's "Sync user profile attributes at each login" is on
 * (`set_user_root_attributes: on_each_login`, the default), Auth0 answers a PATCH of `name`,
 * `picture`, `given_name`, `family_name` or `nickname` of its users with 400
 * `operation_not_supported`: "The following user attributes cannot be updated: name, picture. The
 * connection (google-oauth2) must either be a database connection ...". The setting is per
 * connection and may change at any time, so nothing is refused before Auth0 has said so: Auth0's
 * answer is the only up-to-date source, and a tenant that turned the sync off is never refused.
 */
export interface IdpSyncedRefusal {
  /** The connection named by Auth0, e.g. `google-oauth2`. */
  connection: string;
  /** The refused fields, as Auth0 names them (`name`, `picture`, ...). */
  fields: string[];
}

const REFUSED_ATTRIBUTES = /cannot be updated: ([a-z_, ]+)\./;
const CONNECTION = /The connection \(([^)]+)\)/;

export function idpSyncedRefusal(error: Auth0Refused): IdpSyncedRefusal | undefined {
  if (error.status !== 400 || error.errorCode !== 'operation_not_supported') return undefined;
  const attributes = REFUSED_ATTRIBUTES.exec(error.message)?.[1];
  if (!attributes) return undefined;
  return {
    connection: CONNECTION.exec(error.message)?.[1] ?? 'unknown',
    fields: attributes.split(',').map((field) => field.trim()).filter(Boolean),
  };
}

/** What to tell the caller (GraphQL) or record in `user_changes.error` (SQL); `metadataField` names where app-side values go. */
export function describeIdpSyncedRefusal(refusal: IdpSyncedRefusal, metadataField: 'userMetadata' | 'user_metadata'): string {
  const fields = refusal.fields.join(', ');
  return (
    `Auth0 refused to change ${fields}: this user signs in through the connection ${refusal.connection}, whose identity provider ` +
    `sets ${fields} at each login while the connection's 'Sync user profile attributes at each login' is on (Auth0's default). ` +
    `Nothing was changed, not even the other fields of this change. To change them, turn that setting off for ${refusal.connection} ` +
    `(Auth0 Dashboard > Authentication > the connection > Advanced); or keep the app's own value in ${metadataField}, which Auth0 accepts.`
  );
}
