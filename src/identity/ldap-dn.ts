/** DN strings for the LDAP provider: escaping (RFC 4514), comparison and group names. */

/** RFC 4514 §2.4: escape an attribute value placed in a DN string. */
export function escapeDnValue(value: string): string {
  const out = value.replace(/["+,;<=>\\]/g, (c) => `\\${c}`).replace(/\0/g, '\\00').replace(/ $/, '\\ ');
  return out.startsWith(' ') || out.startsWith('#') ? `\\${out}` : out;
}

/** Normalizes a DN for comparison: case and spaces around separators do not matter. */
export function normalizeDn(dn: string): string {
  return dn.toLowerCase().replace(/\s*([,=+])\s*/g, '$1').trim();
}

/** `cn=mlflow-admins,ou=groups,...` → `mlflow-admins` (the first RDN's value, unescaped). */
export function firstRdnValue(dn: string): string {
  const m = /^[^=]+=((?:\\.|[^,+\\])*)/.exec(dn);
  const raw = m?.[1] ?? dn;
  return raw.replace(/((?:\\[0-9a-fA-F]{2})+)|\\(.)/g, (_, hex: string | undefined, ch: string | undefined) =>
    hex ? Buffer.from(hex.replaceAll('\\', ''), 'hex').toString('utf8') : ch!,
  );
}
