// Whether a compact JWS is spelled the one way RFC 7515 allows: three base64url segments, no padding, no stray bits.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * jose 4 decodes with Node's lenient base64 decoder, which skips characters outside the alphabet
 * (`!`, `~`), accepts `=` padding and `+`/`/`, and ignores the unused low bits of the last
 * character: one signature can be spelled many ways, and each spelling verified, and remembered
 * by the verified-token cache, as a token of its own. RFC 7515 §2 defines base64url without
 * padding, over the URL-safe alphabet only (RFC 4648 §5), and RFC 4648 §3.5 lets a decoder refuse
 * non-zero pad bits; refusing every other spelling leaves one per token.
 */
export function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  return segments.length === 3 && segments.every(isCanonicalBase64url);
}

function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  // 6 bits a character: a remainder of 2 characters carries 1 byte (4 bits unused), of 3 carries
  // 2 bytes (2 unused), and of 1 no whole byte at all.
  const remainder = segment.length % 4;
  if (remainder === 0) return true;
  if (remainder === 1) return false;
  const unusedBits = remainder === 2 ? 0b1111 : 0b11;
  return (ALPHABET.indexOf(segment[segment.length - 1]!) & unusedBits) === 0;
}
