// Secret tokens: generated random, stored only as scrypt hashes, compared in constant time.
// Tokens carry 256 random bits, so they need no password-grade stretching: a light scrypt cost
// keeps a thousand devices reconnecting at once from stalling the thread pool.
import crypto from 'node:crypto';

const N = 1024;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

export function newToken(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
}

function scrypt(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(secret, salt, KEY_BYTES, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashToken(token: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(token, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyToken(token: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(token, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

/** A fingerprint for caching verified tokens in memory without holding the token itself. */
export function fingerprint(token: string): string {
  // the one-shot hash (Node 20.12) skips creating a Hash object: this runs on every authenticated request
  return crypto.hash('sha256', token, 'base64url');
}
