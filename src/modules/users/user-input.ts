// Validation of user profile input; every failure names its field.
import { z } from 'zod';
import { badUserInput } from '../../errors';

// `<provider>|<id>`; the id part may itself hold pipes (e.g. `samlp|my-connection|ada@example.com`).
const AUTH0_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\|[^\s|][^\s]*$/;
// No control characters anywhere in stored text.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

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
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u.test(label));
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
