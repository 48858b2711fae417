// Reads an Auth0 Log Stream request body in any Content Format (JSON lines, JSON array, JSON object), whatever its Content-Type.
//
// Auth0 lets a custom webhook stream pick its Content Type (free text, e.g. "application/json") and
// its Content Format (JSONLINES, JSONARRAY, JSONOBJECT) separately, and its own CLI pairs
// application/json with JSON lines: the header says nothing reliable about the body, so the body
// decides (auth0.com/docs/customize/log-streams/custom-log-streams).

export type ParsedBody =
  /** The events found, and how many JSON lines could not be read (each counts as one invalid event). */
  | { events: unknown[]; unreadable: number }
  /** Nothing in the body is JSON: the sender is not an Auth0 stream, or the body was cut. */
  | undefined;

export function parseLogStreamBody(raw: Buffer): ParsedBody {
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return { events: [], unreadable: 0 };
  // A JSON array, one JSON object (pretty-printed or not), or JSON lines holding exactly one event.
  const whole = tryParse(text);
  if (whole.ok) {
    if (Array.isArray(whole.value)) return { events: whole.value, unreadable: 0 };
    if (whole.value !== null && typeof whole.value === 'object') return { events: [whole.value], unreadable: 0 };
    return undefined;
  }
  // JSON lines: one event a line. A line that cannot be read is one lost event, not a lost batch:
  // refusing the batch would only make Auth0 resend the same bytes, and the other events with them.
  const events: unknown[] = [];
  let unreadable = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const parsed = tryParse(line);
    if (parsed.ok) events.push(parsed.value);
    else unreadable += 1;
  }
  return events.length > 0 ? { events, unreadable } : undefined;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
