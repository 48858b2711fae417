// Validation of user profile input; every failure names its field.
import { z } from 'zod';
import { badUserInput } from '../../errors';

// `<provider>|<id>`; the id part may itself hold pipes (e.g. `samlp|my-connection|ada@example.com`),
// but no white space and no control character (a NUL cannot even be stored by Postgres).
const AUTH0_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\|[^\s|\u0000-\u001f\u007f][^\s\u0000-\u001f\u007f]*$/;
// No control characters anywhere in stored text.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// A domain label: letters and digits of any script, inner hyphens, at most 63 characters.
const UNICODE_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const ASCII_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// Two labels or more, each as UNICODE_LABEL would accept it: a subset of what the Unicode test accepts.
const ASCII_DOMAIN = new RegExp(`^(?:${ASCII_LABEL}\\.)+${ASCII_LABEL}$`);

/**
 * An address as mail systems accept it: `local@domain`. The local part may be quoted and hold
 * quotes, backslashes and non-ASCII (RFC 5321/6531), which stricter regexes wrongly refuse.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at < 1 || at === value.length - 1 || value.length > 320) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 && !local.startsWith('"')) return false;
  if (CONTROL_CHARACTERS.test(value)) return false;
  if (!local.startsWith('"') && /[\s@]/.test(local)) return false;
  // Most domains are ASCII: one plain regex decides them; only the rest take the Unicode per-label test.
  if (ASCII_DOMAIN.test(domain)) return true;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => UNICODE_LABEL.test(label));
}


const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

/** The rule of Auth0IdSchema without zod's overhead, for paths that check a million ids. */
export const isAuth0Id = (value: string): boolean => value.length <= 255 && AUTH0_ID.test(value);

export const Auth0IdSchema = z
  .string()
  .max(255, 'must be at most 255 characters')
  .regex(AUTH0_ID, 'must be an Auth0 user id such as "google-oauth2|1098..." (<provider>|<id>)');

export const UserProfileSchema = z.object({
  auth0Id: Auth0IdSchema,
  email: z.string().refine(isEmailAddress, 'must be an email address').nullish(),
  emailVerified: z.boolean().nullish(),
  name: text(255).nullish(),
  picture: text(2048)
    .refine((value) => /^https?:\/\/[^\s]+$/i.test(value) && URL.canParse(value), 'must be an http(s) URL')
    .nullish(),
  connection: text(255).nullish(),
  loginsCount: z.number().int().min(0, 'must not be negative').nullish(),
  lastLoginAt: z.date().nullish(),
});

export type UserProfileInput = z.infer<typeof UserProfileSchema>;

/** Parses input or throws BAD_USER_INPUT naming the first bad field (e.g. `input.email`). */
export function parseUserProfile(input: unknown, path = 'input'): UserProfileInput {
  const result = UserProfileSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [path, ...(issue?.path ?? [])].join('.');
  throw badUserInput(field, issue?.message ?? 'is invalid');
}

// Metadata objects as Auth0 merges them: top-level keys, a null value removes the key.
const METADATA_MAX_BYTES = 16 * 1024;
const metadata = z
  .record(z.string().max(255), z.unknown())
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES, `must be at most ${METADATA_MAX_BYTES} bytes of JSON`);
const notNull = <T extends z.ZodType>(schema: T) => schema.optional().refine((value) => value !== null, 'must not be null; leave it out to keep the stored value');

const picture = text(2048).refine((value) => /^https?:\/\/[^\s]+$/i.test(value) && URL.canParse(value), 'must be an http(s) URL');

export const UserUpdateSchema = z.object({
  email: notNull(z.string().refine(isEmailAddress, 'must be an email address').nullable()),
  emailVerified: notNull(z.boolean().nullable()),
  name: notNull(text(255).min(1, 'must not be empty').nullable()),
  picture: notNull(picture.nullable()),
  blocked: notNull(z.boolean().nullable()),
  appMetadata: notNull(metadata.nullable()),
  userMetadata: notNull(metadata.nullable()),
});

/** What an end user may change about themselves (updateMe). */
export const MeUpdateSchema = UserUpdateSchema.pick({ name: true, picture: true, userMetadata: true }).strict();

/** The body of a Management API PATCH /users/:id (Auth0's field names), from validated input. */
export type UserPatch = {
  email?: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
  blocked?: boolean;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
};

/** Parses an update or throws BAD_USER_INPUT naming the field; an update that changes nothing is refused too. */
export function parseUserUpdate(input: unknown, schema: typeof UserUpdateSchema | typeof MeUpdateSchema = UserUpdateSchema): UserPatch {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw badUserInput(['input', ...(issue?.path ?? [])].join('.'), issue?.message ?? 'is invalid');
  }
  const value = result.data as z.infer<typeof UserUpdateSchema>;
  const patch: UserPatch = {};
  if (value.email != null) patch.email = value.email;
  if (value.emailVerified != null) patch.email_verified = value.emailVerified;
  if (value.name != null) patch.name = value.name;
  if (value.picture != null) patch.picture = value.picture;
  if (value.blocked != null) patch.blocked = value.blocked;
  if (value.appMetadata != null) patch.app_metadata = value.appMetadata;
  if (value.userMetadata != null) patch.user_metadata = value.userMetadata;
  if (Object.keys(patch).length === 0) throw badUserInput('input', 'must change at least one field');
  return patch;
}
