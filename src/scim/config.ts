/**
 * The `scim` configuration section: the SCIM 2.0 service provider at `/_gatehouse/scim/v2`
 * (src/scim/http.ts, docs/identity.md "SCIM provisioning").
 */
import { z } from 'zod';
import { linkModes } from '../identity/link.ts';

export const scimSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Serve the SCIM 2.0 service provider at `/_gatehouse/scim/v2` (RFC 7643/7644). Only SCIM bearer tokens (`gatehouse scim-tokens create NAME`) are accepted there, and they are accepted nowhere else.'),
    maxResults: z.number().int().min(1).max(10_000).default(200).describe('Most resources one list or search answer holds (`filter.maxResults` in ServiceProviderConfig); a larger `count` is lowered to it.'),
    identityProvider: z
      .string()
      .optional()
      .describe(
        'The id of the provider (an `auth.providers` oidc/ldap entry or an `auth.browser` oidc/saml entry, with `link: subject`) the SCIM client provisions for: each SCIM user is linked to the identity `<identityProvider>:<subject>` (its `subjectAttribute`), so that provider\'s sign-ins (bearer JWT, browser session) are that user and stop when SCIM deactivates or deletes it. Default: none (SCIM users act through personal tokens only).',
      ),
    subjectAttribute: z
      .enum(['externalId', 'userName'])
      .default('externalId')
      .describe("Which SCIM attribute of a user is its subject at `identityProvider` (OIDC `sub`, SAML NameID, LDAP user name): `externalId` (default; a user without one is linked to nothing) or `userName`."),
    requireProvisioned: z
      .boolean()
      .default(false)
      .describe('Refuse every sign-in of `identityProvider` whose identity no SCIM user (or administrator) linked to a local user (401 `identity-not-provisioned`), so a person SCIM deleted cannot come back as an unlinked principal. Default false: an unlinked sign-in is its bare identity `<id>:<subject>`.'),
  })
  .prefault({})
  .describe('SCIM 2.0 provisioning (docs/identity.md, "SCIM provisioning").');

export type ScimConfig = z.infer<typeof scimSchema>;

/** Where SCIM users' sign-ins come from: the identity `<provider>:<user's attribute>` is linked to each. */
export interface ScimLink {
  readonly provider: string;
  readonly attribute: ScimConfig['subjectAttribute'];
}

export function scimLinkOf(scim: ScimConfig): ScimLink | undefined {
  return scim.identityProvider === undefined ? undefined : { provider: scim.identityProvider, attribute: scim.subjectAttribute };
}

/** The providers whose sign-ins must be linked to a user (`scim.requireProvisioned`). */
export function provisionedOnly(scim: ScimConfig): ReadonlySet<string> {
  return new Set(scim.requireProvisioned && scim.identityProvider !== undefined ? [scim.identityProvider] : []);
}

/** `identityProvider` names a provider that links by subject; `requireProvisioned` needs it. */
export function scimProblems(scim: ScimConfig, auth: Parameters<typeof linkModes>[0]): { path: (string | number)[]; message: string }[] {
  if (scim.identityProvider === undefined) {
    return scim.requireProvisioned ? [{ path: ['scim', 'requireProvisioned'], message: 'requireProvisioned needs scim.identityProvider (the provider whose sign-ins must be provisioned)' }] : [];
  }
  const ids = [...auth.providers, ...auth.browser.oidc, ...(auth.browser.saml ?? [])].map((p) => (p as { id: string }).id);
  if (!ids.includes(scim.identityProvider)) return [{ path: ['scim', 'identityProvider'], message: `no provider ${scim.identityProvider} in auth.providers, auth.browser.oidc or auth.browser.saml` }];
  if (linkModes(auth).get(scim.identityProvider) !== 'subject') return [{ path: ['scim', 'identityProvider'], message: `provider ${scim.identityProvider} must have link: subject for SCIM users to be its sign-ins` }];
  return [];
}
