/** Configuration of the LDAP / Active Directory provider (`type: ldap` in `auth.providers`). */
import { FilterParser } from 'ldapts';
import { z } from 'zod';
import { assertsLocalNamesSchema } from './local-names.ts';
import { linkSchema } from './link.ts';

const ms = (d: number, what: string) => z.number().int().min(1).default(d).describe(`${what} (milliseconds).`);

/** A filter template is valid when it parses with a sample value in every placeholder. */
const filterTemplate = (placeholders: string[]) =>
  z.string().refine((v) => {
    try {
      FilterParser.parseString(placeholders.reduce((f, p) => f.replaceAll(`{${p}}`, 'x'), v));
      return true;
    } catch {
      return false;
    }
  }, `must be an RFC 4515 filter (placeholders: ${placeholders.map((p) => `{${p}}`).join(', ')})`);

export const ldapSchema = z
  .strictObject({
    type: z.literal('ldap'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('ldap').describe('Provider id, used in principal ids (`ldap:alice`), audit and metrics.'),
    url: z
      .string()
      .regex(/^ldaps?:\/\/[^/?#\s]+\/?$/, 'must be ldap://host[:port] or ldaps://host[:port]')
      .describe('Directory server: `ldaps://host:636` (TLS from the start) or `ldap://host:389` (with `startTls`).'),
    startTls: z.boolean().default(false).describe('Upgrade an ldap:// connection with StartTLS before anything is sent (RFC 4513 §3). Default false.'),
    tlsCaFile: z.string().optional().describe('PEM file with the CA certificate(s) that sign the directory server certificate; default the system CAs.'),
    tlsVerification: z
      .boolean()
      .default(true)
      .describe('Verify the directory server certificate and host name. Default true; false is logged loudly at every start and is for tests only.'),
    userDnTemplate: z
      .string()
      .includes('{username}')
      .optional()
      .describe('Bind mode "DN template": the user DN, `{username}` escaped per RFC 4514 (`uid={username},ou=people,dc=example,dc=com`; AD also accepts `{username}@corp.example.com`). Exclusive with `search`.'),
    search: z
      .strictObject({
        bindDn: z.string().optional().describe('Service account DN for the search; absent means an anonymous search.'),
        bindPassword: z.string().optional().describe('Service account password (prefer `bindPasswordFile`).'),
        bindPasswordFile: z.string().optional().describe('File holding the service account password (trailing newline ignored).'),
        base: z.string().min(1).describe('Search base for users.'),
        filter: filterTemplate(['username'])
          .default('(uid={username})')
          .describe('User filter; `{username}` is escaped per RFC 4515. AD: `(&(objectClass=user)(sAMAccountName={username}))`. Default `(uid={username})`.'),
      })
      .refine((s) => !(s.bindPassword !== undefined && s.bindPasswordFile !== undefined), 'set bindPassword or bindPasswordFile, not both')
      .refine((s) => s.bindDn === undefined || s.bindPassword !== undefined || s.bindPasswordFile !== undefined, 'bindDn needs bindPassword or bindPasswordFile')
      .optional()
      .describe('Bind mode "search then bind": find the user entry (as the service account), then bind as it. Exclusive with `userDnTemplate`.'),
    usernameAttribute: z.string().default('uid').describe('Attribute holding the user name (the principal\'s display name). AD: `sAMAccountName`. Default `uid`.'),
    identityAttribute: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an attribute name, or dn')
      .optional()
      .describe(
        'What the principal id `<id>:<identity>` is made of, read from the user\'s entry: an attribute whose value is unique and never reused (`entryUUID` on OpenLDAP, `employeeID`), or `dn` for the entry\'s DN (in lower case, without blanks around `,` `=` `+`). Default: `usernameAttribute`. An entry without it is identified by its DN.',
      ),
    assertsLocalNames: assertsLocalNamesSchema,
    link: linkSchema,
    emailAttribute: z.string().default('mail').describe('Attribute holding the e-mail address. Default `mail`.'),
    groups: z
      .strictObject({
        source: z.enum(['search', 'memberOf']).default('search').describe('`search`: search `base` with `filter`; `memberOf`: read the user entry\'s `memberOf` attribute (AD, OpenLDAP memberof overlay). Default `search`.'),
        base: z.string().optional().describe('Search base for groups (required with source `search`).'),
        filter: filterTemplate(['dn', 'username'])
          .default('(member={dn})')
          .describe('Group filter; `{dn}` is the user DN and `{username}` the user name, both escaped per RFC 4515. AD nested groups: `(member:1.2.840.113556.1.4.1941:={dn})`. Default `(member={dn})`.'),
        nameAttribute: z.string().default('cn').describe('Attribute holding the group name put in the principal\'s groups. Default `cn`.'),
      })
      .refine((g) => g.source !== 'search' || g.base !== undefined, { message: 'base is required when source is search', path: ['base'] })
      .optional()
      .describe('Group lookup; absent means no groups.'),
    groupMappings: z
      .array(
        z.strictObject({
          group: z.string().min(1).describe('Group DN (compared case-insensitively).'),
          admin: z.boolean().default(false).describe('Members are platform administrators. Default false.'),
          roles: z.array(z.string()).default([]).describe('Roles members get.'),
          tenants: z.array(z.string()).default([]).describe('Tenants members belong to.'),
        }),
      )
      .default([])
      .describe('Group DN → admin flag, roles and tenants.'),
    cacheTtlMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe('How long a successful check is remembered, keyed by an HMAC of the credentials under a per-process key (never the password); 0 disables (milliseconds).'),
    connectTimeoutMs: ms(5_000, 'Time to open a connection (TCP and TLS) to the directory; then 503'),
    timeoutMs: ms(5_000, 'Time one LDAP operation (bind, search) may take; then 503'),
  })
  .refine((c) => (c.userDnTemplate === undefined) !== (c.search === undefined), 'set exactly one bind mode: userDnTemplate or search')
  .refine((c) => !c.startTls || c.url.startsWith('ldap://'), { message: 'startTls needs an ldap:// url (ldaps:// is TLS already)', path: ['startTls'] })
  .describe('LDAP / Active Directory users with HTTP Basic authentication. Tried after `local` when both are configured: a user name the local store knows is owned by `local`.');

export type LdapConfig = z.infer<typeof ldapSchema>;
