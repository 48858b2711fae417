// MD4 (RFC 1320) in plain TypeScript: OpenSSL 3 moved md4 to its legacy provider, so Node 20's crypto refuses it.
// Auth0 imports md4 hashes (and HMAC-MD4), so a legacy store that used them must still verify here.

const rotateLeft = (x: number, n: number) => (x << n) | (x >>> (32 - n));

/** The 16-byte MD4 digest of `input` (RFC 1320, section 3). */
export function md4(input: Buffer): Buffer {
  // Padding (3.1, 3.2): a 1 bit, zeros to 56 mod 64 bytes, then the bit length as 64-bit little-endian.
  const padded = Buffer.alloc(Math.ceil((input.length + 9) / 64) * 64);
  input.copy(padded);
  padded[input.length] = 0x80;
  const bits = input.length * 8;
  padded.writeUInt32LE(bits >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bits / 2 ** 32), padded.length - 4);

  let [a, b, c, d] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const x = new Array<number>(16);
  const f = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const g = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const h = (p: number, q: number, r: number) => p ^ q ^ r;
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i += 1) x[i] = padded.readUInt32LE(offset + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
    for (const k of [0, 4, 8, 12]) {
      a = rotateLeft((a + f(b, c, d) + x[k]!) | 0, 3);
      d = rotateLeft((d + f(a, b, c) + x[k + 1]!) | 0, 7);
      c = rotateLeft((c + f(d, a, b) + x[k + 2]!) | 0, 11);
      b = rotateLeft((b + f(c, d, a) + x[k + 3]!) | 0, 19);
    }
    // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s
    for (const k of [0, 1, 2, 3]) {
      a = rotateLeft((a + g(b, c, d) + x[k]! + 0x5a827999) | 0, 3);
      d = rotateLeft((d + g(a, b, c) + x[k + 4]! + 0x5a827999) | 0, 5);
      c = rotateLeft((c + g(d, a, b) + x[k + 8]! + 0x5a827999) | 0, 9);
      b = rotateLeft((b + g(c, d, a) + x[k + 12]! + 0x5a827999) | 0, 13);
    }
    // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s
    for (const k of [0, 2, 1, 3]) {
      a = rotateLeft((a + h(b, c, d) + x[k]! + 0x6ed9eba1) | 0, 3);
      d = rotateLeft((d + h(a, b, c) + x[k + 8]! + 0x6ed9eba1) | 0, 9);
      c = rotateLeft((c + h(d, a, b) + x[k + 4]! + 0x6ed9eba1) | 0, 11);
      b = rotateLeft((b + h(c, d, a) + x[k + 12]! + 0x6ed9eba1) | 0, 15);
    }
    [a, b, c, d] = [(a + aa) | 0, (b + bb) | 0, (c + cc) | 0, (d + dd) | 0];
  }
  const digest = Buffer.alloc(16);
  [a, b, c, d].forEach((word, i) => digest.writeInt32LE(word, i * 4));
  return digest;
}

/** HMAC (RFC 2104) over MD4, whose block is 64 bytes. */
export function hmacMd4(key: Buffer, message: Buffer): Buffer {
  const block = Buffer.alloc(64);
  (key.length > 64 ? md4(key) : key).copy(block);
  const pad = (byte: number) => Buffer.from(block.map((value) => value ^ byte));
  return md4(Buffer.concat([pad(0x5c), md4(Buffer.concat([pad(0x36), message]))]));
}
