// Writes Auth0 users exports for the import bench: the realistic shape of a default export, or the thin one.
import fs from 'node:fs';
import { createGzip } from 'node:zlib';

/**
 * `realistic`: what a users-export job without `fields` gives, mixed like a real tenant (database,
 * social, linked and phone users; metadata on some). `thin`: only the fields the import keeps.
 */
export type ExportShape = 'realistic' | 'thin';

export const EXPORT_SHAPES: readonly ExportShape[] = ['realistic', 'thin'];

export function isExportShape(value: string): value is ExportShape {
  return (EXPORT_SHAPES as readonly string[]).includes(value);
}

/** Writes `users` lines of gzipped NDJSON; the same arguments always give the same file. */
export async function writeAuth0Export(file: string, users: number, shape: ExportShape): Promise<void> {
  const gzip = createGzip();
  const out = gzip.pipe(fs.createWriteStream(file));
  const line = shape === 'realistic' ? realisticLine : thinLine;
  const random = seededRandom(users);
  let chunk = '';
  for (let i = 0; i < users; i += 1) {
    chunk += `${JSON.stringify(line(i, random))}\n`;
    if (chunk.length < 64 * 1024) continue;
    if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
    chunk = '';
  }
  gzip.end(chunk);
  await new Promise<void>((resolve, reject) => out.once('finish', () => resolve()).once('error', reject));
}

/** The shape the bench used before issue 15: the eight fields the import keeps, nothing else. */
function thinLine(i: number): object {
  return {
    user_id: `${i % 2 ? 'google-oauth2' : 'auth0'}|import-${i}`,
    email: `user${i}@example.com`,
    email_verified: i % 3 === 0,
    name: `User ${i}`,
    picture: `https://example.com/p/${i}.png`,
    identities: [{ connection: i % 2 ? 'google-oauth2' : 'Username-Password-Authentication' }],
    logins_count: i % 50,
    last_login: '2026-10-01T00:00:00.000Z',
  };
}

type Random = () => number;

// Mulberry32: small, fast and seeded, so two runs of the bench import the same file.
function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const hex = (random: Random, length: number) => {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
};
// Auth0 database ids are MongoDB ObjectIds: creation time in seconds, a process id, a counter.
const objectId = (createdAtMs: number, i: number) => `${Math.floor(createdAtMs / 1000).toString(16).padStart(8, '0')}a1b2c3d4e5${(i & 0xffffff).toString(16).padStart(6, '0')}`;
const digits = (random: Random, length: number) => {
  let out = String(1 + Math.floor(random() * 9));
  while (out.length < length) out += String(Math.floor(random() * 10));
  return out;
};

const FIRST = ['Ada', 'Zoë', 'José', 'Chloé', 'Søren', 'Łukasz', 'Ngozi', 'Aiko', 'Mårten', 'Ana', 'Oluwaseun', 'Siobhán', 'Raúl', 'Ines', 'Dmitri', 'Mei', 'Jürgen', 'Priya', 'Björn', 'Fatima'];
const LAST = ["O'Brien", 'Müller', 'García', 'Nakamura', 'Østergaard', 'Kowalski', 'Dubois', "D'Angelo", 'Nguyễn', 'Smith', 'Okafor', 'Ivanova', 'Çelik', 'Lindqvist', 'Papadopoulos', 'Fernández', 'Zhang', 'Kim'];
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'proton.me', 'example.co.uk', 'acme-corp.com', 'mail.example.org'];
const TAGS = ['work', 'spam', 'newsletter', 'test', 'auth0'];
const LOCALES = ['en', 'fr', 'de', 'es', 'pt-BR', 'ja', 'en-GB'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const created = Date.parse('2019-01-01T00:00:00.000Z');
const now = Date.parse('2026-11-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

// A default export line: database users 65%, Google 20%, linked accounts 8% (2 or 3 identities),
// GitHub 4%, phone (sms) users 3% without email; user_metadata on 35%, app_metadata on 25%.
function realisticLine(i: number, random: Random): object {
  const roll = random();
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  // A name with a nickname in quotes now and then: JSON escapes and non-ASCII in the same field.
  const name = random() < 0.05 ? `${first} "${pick(random, ['Ace', 'Doc', 'Bee'])}" ${last}` : `${first} ${last}`;
  const local = `${first}.${last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '').toLowerCase() + (i % 1000);
  const email = `${local}${random() < 0.12 ? `+${pick(random, TAGS)}` : ''}@${pick(random, DOMAINS)}`;
  const createdAt = created + Math.floor(random() * (now - created - 86_400_000));
  const updatedAt = createdAt + Math.floor(random() * (now - createdAt));
  const loginsCount = 1 + Math.floor(random() ** 3 * 400);
  const lastLogin = updatedAt - Math.floor(random() * 86_400_000);
  const gravatar = `https://s.gravatar.com/avatar/${hex(random, 32)}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F${local.slice(0, 2)}.png`;
  const googlePicture = `https://lh3.googleusercontent.com/a/ACg8oc${hex(random, 40)}=s96-c`;
  const database = (id: string) => ({ user_id: id, provider: 'auth0', connection: 'Username-Password-Authentication', isSocial: false });
  const google = (id: string) => ({ provider: 'google-oauth2', user_id: id, connection: 'google-oauth2', isSocial: true });
  const github = (id: string) => ({ provider: 'github', user_id: id, connection: 'github', isSocial: true });

  let user: Record<string, unknown>;
  if (roll < 0.65) {
    const id = objectId(createdAt, i);
    user = { user_id: `auth0|${id}`, email, email_verified: random() < 0.7, name: random() < 0.6 ? email : name, nickname: local, picture: gravatar, identities: [database(id)] };
  } else if (roll < 0.85) {
    const id = `1${String(100_000_000_000_000_000_000n + BigInt(i) * 7919n).slice(1)}`;
    user = { user_id: `google-oauth2|${id}`, email, email_verified: true, name, given_name: first, family_name: last, nickname: local, picture: googlePicture, locale: pick(random, LOCALES), identities: [google(id)] };
  } else if (roll < 0.93) {
    // Linked accounts: the primary identity first, the secondaries carry their own profileData.
    const id = objectId(createdAt, i);
    const identities: object[] = [database(id), { ...google(digits(random, 21)), profileData: { email, email_verified: true, name, given_name: first, family_name: last, picture: googlePicture } }];
    if (random() < 0.3) identities.push({ ...github(String(1_000_000 + Math.floor(random() * 9e7))), profileData: { nickname: local, name, picture: `https://avatars.githubusercontent.com/u/${digits(random, 8)}?v=4` } });
    user = { user_id: `auth0|${id}`, email, email_verified: true, name, nickname: local, picture: gravatar, identities };
  } else if (roll < 0.97) {
    const id = String(10_000_000 + i);
    user = { user_id: `github|${id}`, email, email_verified: true, name, nickname: local, picture: `https://avatars.githubusercontent.com/u/${id}?v=4`, identities: [github(id)] };
  } else {
    const id = objectId(createdAt, i);
    const phone = `+${digits(random, 11)}`;
    user = { user_id: `sms|${id}`, phone_number: phone, phone_verified: true, name: phone, nickname: phone, picture: `https://cdn.auth0.com/avatars/${phone.slice(-2)}.png`, identities: [{ user_id: id, provider: 'sms', connection: 'sms', isSocial: false }] };
  }
  user.created_at = iso(createdAt);
  user.updated_at = iso(updatedAt);
  user.last_login = iso(lastLogin);
  user.last_ip = `${Math.floor(random() * 223) + 1}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  user.logins_count = loginsCount;
  if (random() < 0.35) user.user_metadata = { preferred_language: pick(random, LOCALES), newsletter: random() < 0.5, theme: pick(random, ['dark', 'light', 'system']), onboarding: { step: Math.floor(random() * 6), completed: random() < 0.6 } };
  if (random() < 0.25) user.app_metadata = { plan: pick(random, PLANS), roles: random() < 0.2 ? ['admin', 'billing'] : ['member'], tenant_id: `org_${hex(random, 16)}`, stripe_customer_id: `cus_${hex(random, 14)}` };
  return user;
}
