// Says what is wrong with a setting in the project's words: the value given (never a secret's) and what is expected.
import type { z } from 'zod';

/** Settings whose value is never shown, whatever it is: it is a secret. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|AUTHTOKEN|_KEY$/;
const MAX_SHOWN = 80;

/** Expectations that the schema alone cannot say well (the schema says "a URL"; these say which). */
const EXPECTED: Record<string, string> = {
  PORT: 'a port number from 0 to 65535 (0: any free port)',
  EMBEDDED_POSTGRES_PORT: 'a port number from 0 to 65535',
  DATABASE_URL: 'a Postgres URL such as postgresql://user:password@localhost:5432/app',
  AUTH0_ISSUER_BASE_URL: 'a URL such as https://your-tenant.eu.auth0.com/',
  AUTH0_MANAGEMENT_ORIGIN: 'a URL such as http://127.0.0.1:4010',
  AUTH0_CLAIMS_NAMESPACE: 'a URL such as https://your-app.example/',
};

/**
 * One line per bad setting: `PORT is "abc": expected a port number from 0 to 65535`. The value is
 * quoted from the environment as given, except a secret's (only its length) and a URL's password.
 */
export function describeBadSetting(name: string, given: unknown, schema: z.ZodType | undefined, issue: z.core.$ZodIssue): string {
  return `${name} is ${describeGiven(name, given)}: expected ${EXPECTED[name] ?? expectedBy(schema, issue)}`;
}

export function describeGiven(name: string, given: unknown): string {
  if (typeof given !== 'string') return 'not set';
  if (SECRET_NAME.test(name)) return `a secret of ${given.length} characters (not shown)`;
  const shown = withoutPassword(given);
  if (shown === undefined) return `a value of ${given.length} characters (not shown: it may hold a password)`;
  return JSON.stringify(shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown);
}

/**
 * The value with a URL's password replaced by ***; undefined when the value looks like it holds
 * credentials (user:password@) that the URL parser cannot find, so they cannot be masked.
 */
function withoutPassword(value: string): string | undefined {
  if (!value.includes('@')) return value;
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return /:[^/@]*@/.test(value) ? undefined : value;
  }
}

/** What the schema accepts, read from the schema itself, so that settings added later are described too. */
function expectedBy(schema: z.ZodType | undefined, issue: z.core.$ZodIssue): string {
  const inner = innermost(schema);
  const def = inner?._zod.def as { type?: string; format?: string; checks?: Array<{ _zod: { def: Record<string, unknown> } }>; entries?: Record<string, unknown> } | undefined;
  if (def?.type === 'number') return describeNumber(def.checks ?? []);
  if (def?.type === 'enum' && def.entries) return `one of ${Object.values(def.entries).join(', ')}`;
  if (def?.type === 'string' && def.format === 'url') return 'a URL';
  // A check with a message of our own ('a host name such as ...', 'at least 32 characters').
  return issue.message;
}

function describeNumber(checks: Array<{ _zod: { def: Record<string, unknown> } }>): string {
  let whole = false;
  let low: { value: unknown; inclusive: unknown } | undefined;
  let high: { value: unknown; inclusive: unknown } | undefined;
  for (const { _zod } of checks) {
    const check = _zod.def;
    if (check.check === 'number_format' && String(check.format).includes('int')) whole = true;
    if (check.check === 'greater_than') low = { value: check.value, inclusive: check.inclusive };
    if (check.check === 'less_than') high = { value: check.value, inclusive: check.inclusive };
  }
  const kind = whole ? 'a whole number' : 'a number';
  if (low?.inclusive && high?.inclusive) return `${kind} from ${String(low.value)} to ${String(high.value)}`;
  const bounds = [
    low && (low.inclusive ? `${String(low.value)} or more` : `above ${String(low.value)}`),
    high && (high.inclusive ? `at most ${String(high.value)}` : `below ${String(high.value)}`),
  ].filter(Boolean);
  return bounds.length > 0 ? `${kind}, ${bounds.join(', ')}` : kind;
}

/** Through z.preprocess, .default() and .optional() to the schema that checks the value. */
function innermost(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema as { _zod: { def: { type: string; in?: unknown; out?: unknown; innerType?: unknown } } } | undefined;
  for (let depth = 0; current && depth < 10; depth++) {
    const def = current._zod.def;
    // A pipe into a transform (true/false settings) checks the value in its first half.
    if (def.type === 'pipe' && def.out) current = ((def.out as typeof current)?._zod.def.type === 'transform' ? def.in : def.out) as typeof current;
    else if (def.innerType) current = def.innerType as typeof current;
    else break;
  }
  return current as z.ZodType | undefined;
}
