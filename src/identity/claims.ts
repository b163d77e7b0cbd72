/**
 * Claim mapping for bearer JWTs: where in a token's payload the subject, name, email, groups,
 * roles and tenants live. Paths are dotted (`realm_access.roles`); a key that itself contains
 * dots (Auth0's `https://example.com/groups`) is found too, because the longest matching key
 * wins at each level. List claims accept a string or an array; `split` breaks space-separated
 * strings apart (RFC 8693 §4.2 `scope`, which Athenz and many OAuth servers use for roles).
 */
import { z } from 'zod';

/** A dotted claim path (`realm_access.roles`); SAML attribute names are paths too. */
export const claimPath = z.string().min(1).regex(/^[^.].*[^.]$|^[^.]$/, 'a dotted claim path');
const path = claimPath;

export const listClaimSourceSchema = z
  .strictObject({
    path: path.describe('Dotted claim path (`groups`, `realm_access.roles`, `scope`).'),
    split: z.boolean().default(false).describe('Split string values on whitespace (for `scope`).'),
    prefix: z
      .string()
      .min(1)
      .optional()
      .describe('Keep only values starting with this prefix, with the prefix removed (`mlflow:role:viewer` → `viewer`). Default: keep every value.'),
    aliases: z
      .record(z.string(), z.string())
      .default({})
      .describe('Rename values (`{"mlflow.admin": "admin"}`); an aliased value is kept even without the prefix.'),
  })
  .describe('One source of a list claim.');

/** A list claim: a bare path, one source, or several sources whose values are merged. */
export const listClaimSchema = z.union([path, listClaimSourceSchema, z.array(z.union([path, listClaimSourceSchema])).min(1)]);
export type ListClaim = z.input<typeof listClaimSchema>;
export type ListClaimSource = z.output<typeof listClaimSourceSchema>;
type Source = ListClaimSource;

/** Platform administrators of a browser sign-in provider (OIDC or SAML) by IdP group or role. */
export const browserAdminSchema = z
  .strictObject({
    groups: z.array(z.string()).default([]).describe('Group names that make the user a platform administrator.'),
    roles: z.array(z.string()).default([]).describe('Role names (after mapping) that make the user a platform administrator.'),
  })
  .prefault({})
  .describe('Platform administrators by IdP group or role.');

export const claimMappingSchema = z
  .strictObject({
    subject: path.default('sub').describe('Claim holding the stable subject id.'),
    username: z
      .array(path)
      .min(1)
      .default(['preferred_username'])
      .describe('Claims tried in order for the display name; the subject is used when none is present.'),
    email: path.default('email').describe('Claim holding the email address.'),
    groups: listClaimSchema.optional().describe('Claim(s) holding group names. Default `groups`.'),
    roles: listClaimSchema.optional().describe('Claim(s) holding role names. Default: none.'),
    tenants: listClaimSchema.optional().describe('Claim(s) holding tenant memberships. Default: none.'),
  })
  .prefault({})
  .describe('Where the principal attributes are found in the token.');
export type ClaimMapping = z.output<typeof claimMappingSchema>;

/** The value at a dotted path, or undefined. Never throws on odd payloads. */
export function claimAt(payload: unknown, dotted: string): unknown {
  return lookup(payload, dotted.split('.'));
}

function lookup(node: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return node;
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const obj = node as Record<string, unknown>;
  for (let i = segments.length; i >= 1; i--) {
    const key = segments.slice(0, i).join('.');
    if (!Object.hasOwn(obj, key)) continue;
    const found = lookup(obj[key], segments.slice(i));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A non-empty string claim, or undefined (numbers are accepted as subjects, e.g. numeric ids). */
export function stringClaim(payload: unknown, dotted: string): string | undefined {
  const v = claimAt(payload, dotted);
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Normalises a configured list claim once, at construction: a bare path becomes a source. */
export function compileListClaim(claim: ListClaim | undefined): readonly ListClaimSource[] {
  if (claim === undefined) return [];
  const list = Array.isArray(claim) ? claim : [claim];
  return list.map((s) => listClaimSourceSchema.parse(typeof s === 'string' ? { path: s } : s));
}

/** Values of a list claim after splitting, prefix filtering and aliasing; de-duplicated, in order. */
export function listClaim(payload: unknown, sources: readonly ListClaimSource[]): string[] {
  const out = new Set<string>();
  for (const source of sources) {
    const raw = claimAt(payload, source.path);
    const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
    for (const value of values) {
      for (const item of source.split ? value.split(/\s+/) : [value]) {
        const mapped = mapValue(item, source);
        if (mapped) out.add(mapped);
      }
    }
  }
  return [...out];
}

function mapValue(value: string, source: Source): string | undefined {
  if (value.length === 0) return undefined;
  if (Object.hasOwn(source.aliases, value)) return source.aliases[value];
  if (source.prefix === undefined) return value;
  if (!value.startsWith(source.prefix) || value.length === source.prefix.length) return undefined;
  return value.slice(source.prefix.length);
}
