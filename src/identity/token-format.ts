/**
 * The API token format: `gth_pat_` (personal), `gth_sat_` (service account) or `gth_sct_` (a SCIM
 * client's token, src/scim/auth.ts: accepted by the SCIM door only), a 12-hex-digit
 * public id that finds the row, `_`, 256 random bits (43 base64url characters) and a 6-character
 * checksum (CRC-32 of everything before it, base64url). The prefix makes a leaked token easy to
 * recognise for people and secret scanners; the checksum catches typos and truncation without a
 * store lookup (it is not a MAC: anyone can compute it, it only says "well formed").
 *
 *   gth_pat_0f3a9c1b2d4e_<43 chars of secret><6 chars of checksum>
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type TokenKind = 'personal' | 'service' | 'scim';

export const TOKEN_PREFIX = 'gth_';
const KIND_PREFIX: Record<TokenKind, string> = { personal: 'gth_pat_', service: 'gth_sat_', scim: 'gth_sct_' };
const KIND_OF: Record<string, TokenKind> = { pat: 'personal', sat: 'service', sct: 'scim' };
const SHAPE = /^gth_(pat|sat|sct)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})([A-Za-z0-9_-]{6})$/;

export interface MintedToken {
  readonly id: string;
  readonly kind: TokenKind;
  /** The token itself: shown once, never stored. */
  readonly token: string;
  /** What the store keeps. */
  readonly hash: string;
}

export type ParsedToken =
  | { readonly ok: true; readonly id: string; readonly kind: TokenKind; readonly hash: string }
  | { readonly ok: false; readonly reason: 'malformed-token' | 'bad-checksum' };

function checksum(body: string): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(body));
  return b.toString('base64url');
}

/**
 * SHA-256, unsalted and fast, is the right hash here: the secret is 256 uniformly random bits,
 * so there is nothing to brute-force or precompute (a slow KDF protects low-entropy passwords,
 * not this), and a fast hash keeps each request's check cheap.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function mintToken(kind: TokenKind, random: (n: number) => Buffer = randomBytes): MintedToken {
  const id = random(6).toString('hex');
  const body = `${KIND_PREFIX[kind]}${id}_${random(32).toString('base64url')}`;
  const token = body + checksum(body);
  return { id, kind, token, hash: hashToken(token) };
}

/** Whether a credential claims to be one of our tokens (then it is ours to accept or refuse). */
export const looksLikeToken = (value: string): boolean => value.startsWith(TOKEN_PREFIX);

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer token has the JWS compact shape (RFC 7515 §7.1) of a JWT; else it is opaque. */
export const looksLikeJws = (value: string): boolean => JWS_COMPACT.test(value);

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

export function parseToken(token: string): ParsedToken {
  const m = SHAPE.exec(token);
  if (!m) return { ok: false, reason: 'malformed-token' };
  if (checksum(token.slice(0, -6)) !== m[4]) return { ok: false, reason: 'bad-checksum' };
  return { ok: true, id: m[2]!, kind: KIND_OF[m[1]!]!, hash: hashToken(token) };
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
