// Validation of transaction input and filters; every failure names its field.
import { z } from 'zod';
import { badUserInput } from '../../errors';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
// Text may hold line breaks and tabs, but no other control characters.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const CurrencySchema = z
  .string()
  .refine((value) => CURRENCIES.has(value), 'must be an ISO 4217 currency code in capitals, e.g. EUR');

const Description = z
  .string()
  .max(500, 'must be at most 500 characters')
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

const Amount = z.bigint().refine((value) => value !== 0n, 'must not be zero');

export const CreateTransactionSchema = z.object({
  amountMinor: Amount,
  currency: CurrencySchema,
  description: Description.nullish(),
  occurredAt: z.date(),
});

export const UpdateTransactionSchema = z.object({
  amountMinor: Amount.nullish(),
  currency: CurrencySchema.nullish(),
  description: Description.nullish(),
  occurredAt: z.date().nullish(),
});

export const PeriodSchema = z
  .object({ from: z.date().nullish(), to: z.date().nullish(), currency: CurrencySchema.nullish() })
  .refine((period) => !period.from || !period.to || period.from <= period.to, { message: 'must not be after `to`', path: ['from'] });

export type CreateTransactionInput = z.infer<typeof CreateTransactionSchema>;
export type UpdateTransactionInput = z.infer<typeof UpdateTransactionSchema>;
export type Period = z.infer<typeof PeriodSchema>;

/** Parses with `schema` or throws BAD_USER_INPUT naming the first bad field under `path`. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, path: string): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw badUserInput([path, ...(issue?.path ?? [])].filter(Boolean).join('.'), issue?.message ?? 'is invalid');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseTransactionId(id: string): string {
  if (!UUID.test(id)) throw badUserInput('id', 'is not a transaction id');
  return id.toLowerCase();
}
