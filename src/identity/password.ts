/**
 * Password hashing with scrypt (memory-hard, built into Node: no native addon). Hashes are
 * self-describing, `scrypt$N$r$p$salt$hash` in base64url, so parameters can be raised later
 * without invalidating existing hashes.
 */
import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
}

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: p.cost,
    r: p.blockSize,
    p: p.parallelization,
    // scrypt needs 128·N·r·p bytes; Node's default cap (32 MiB) is exactly N=2^15, r=8.
    maxmem: 256 * p.cost * p.blockSize * p.parallelization,
  };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return ['scrypt', params.cost, params.blockSize, params.parallelization, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time comparison; a malformed hash never verifies. Werkzeug hashes (imported from MLflow's auth app) verify too. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (isWerkzeugHash(encoded)) return verifyWerkzeug(password, encoded);
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [cost, blockSize, parallelization] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![cost, blockSize, parallelization].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  const actual = await derive(password, salt, { cost, blockSize, parallelization });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Werkzeug's `generate_password_hash` formats, as MLflow's basic-auth app stores them
 * (werkzeug/security.py `_hash_internal`): `scrypt:N:r:p$salt$hex` (64-byte key) and
 * `pbkdf2:<hash>:<iterations>$salt$hex` (digest-size key). The salt is used as its UTF-8 text
 * and the password is not normalized, exactly as werkzeug does. A successful login rehashes
 * such a hash to Gatehouse's format (`needsRehash`).
 */
const WERKZEUG = /^(?:scrypt:(\d+):(\d+):(\d+)|pbkdf2:(sha1|sha224|sha256|sha384|sha512):(\d+))\$([^$]+)\$([0-9a-f]+)$/;
const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** hashlib.pbkdf2_hmac's default key length: the digest size. */
const DIGEST_BYTES: Record<string, number> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

export function isWerkzeugHash(encoded: string): boolean {
  return WERKZEUG.test(encoded);
}

/** Whether a stored hash should be replaced by a fresh Gatehouse hash after a successful check. */
export function needsRehash(encoded: string): boolean {
  return isWerkzeugHash(encoded);
}

async function verifyWerkzeug(password: string, encoded: string): Promise<boolean> {
  const m = WERKZEUG.exec(encoded);
  if (!m) return false;
  const salt = Buffer.from(m[6]!, 'utf8');
  const expected = Buffer.from(m[7]!, 'hex');
  let actual: Buffer;
  if (m[1] !== undefined) {
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // scrypt needs N to be a power of two; 128·N·r·p bytes of memory, capped like Gatehouse's own (2^20·8·1 = 1 GiB max).
    if (!(N > 1 && (N & (N - 1)) === 0 && r > 0 && p > 0 && N * r * p <= 2 ** 23) || expected.length !== 64) return false;
    actual = await new Promise<Buffer>((resolve, reject) =>
      scrypt(Buffer.from(password, 'utf8'), salt, 64, { N, r, p, maxmem: 256 * N * r * p }, (err, key) => (err ? reject(err) : resolve(key))),
    );
  } else {
    const iterations = Number(m[5]);
    if (!(iterations > 0 && iterations <= MAX_PBKDF2_ITERATIONS)) return false;
    actual = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, DIGEST_BYTES[m[4]!]!, m[4]!, (err, key) => (err ? reject(err) : resolve(key))),
    );
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A generated password: 24 random bytes, base64url (192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The minimal policy until the identity issue adds configurable rules. */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  if (password.length < 12) problems.push('must be at least 12 characters');
  if (password.length > 1024) problems.push('must be at most 1024 characters');
  return problems;
}
