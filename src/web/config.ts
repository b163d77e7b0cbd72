/**
 * `auth.browser`: the login page, browser sessions and the OIDC identity providers offered as
 * buttons on it (authorization code + PKCE). Bearer-token issuers are configured separately
 * (`auth.providers[].type: oidc`); one IdP may appear in both.
 */
import { z } from 'zod';
import { browserAdminSchema, claimMappingSchema } from '../identity/claims.ts';
import { assertsLocalNamesSchema } from '../identity/local-names.ts';
import { linkSchema } from '../identity/link.ts';
import { samlIdpSchema } from '../identity/saml-config.ts';

const seconds = (d: number, min: number, what: string) => z.number().int().min(min).default(d).describe(`${what} (seconds).`);

export const browserOidcSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .describe('Provider id: in the callback path (`/_gatehouse/oidc/callback/<id>`) and principal ids (`<id>:<subject>`).'),
    label: z.string().min(1).max(80).describe('Button text on the login page ("Sign in with <label>").'),
    issuer: z.url().describe('Issuer URL; endpoints come from its discovery document. Plain http is accepted for tests only, with a warning.'),
    clientId: z.string().min(1).describe('OAuth client id registered at the IdP.'),
    clientSecret: z.string().min(1).optional().describe('Client secret (prefer `clientSecretFile`). Neither: a public client (PKCE only).'),
    clientSecretFile: z.string().optional().describe('File holding the client secret (trailing newline ignored).'),
    scopes: z.array(z.string().regex(/^\S+$/)).default(['openid', 'email', 'profile']).describe('Scopes requested; `openid` is required.'),
    redirectUri: z
      .url()
      .optional()
      .describe('Registered redirect URI. Default: `<scheme>://<Host>/_gatehouse/oidc/callback/<id>` from the login request.'),
    extraAuthParams: z.record(z.string(), z.string()).default({}).describe('Extra authorization request parameters (`resource`, `audience`, `prompt`).'),
    userinfo: z.boolean().default(true).describe('Also read the userinfo endpoint (claims there override the ID token\'s); a failure falls back to the ID token.'),
    claims: claimMappingSchema,
    admin: browserAdminSchema,
    endSession: z.boolean().default(true).describe('On logout, also end the IdP session when it advertises `end_session_endpoint`.'),
    assertsLocalNames: assertsLocalNamesSchema,
    link: linkSchema,
  })
  .refine((c) => !(c.clientSecret !== undefined && c.clientSecretFile !== undefined), { message: 'set clientSecret or clientSecretFile, not both', path: ['clientSecret'] })
  .refine((c) => c.scopes.includes('openid'), { message: 'scopes must include openid', path: ['scopes'] })
  .describe('An OIDC identity provider offered as a button on the login page.');

export type BrowserOidcConfig = z.infer<typeof browserOidcSchema>;

export const browserSchema = z
  .strictObject({
    loginRedirect: z
      .boolean()
      .default(true)
      .describe('Send unauthenticated browser navigation (GET, Accept: text/html, not /api/ or /ajax-api/) to the login page instead of a 401.'),
    idleTimeoutSeconds: seconds(1800, 60, 'A browser session ends after this long without a request'),
    absoluteTimeoutSeconds: seconds(43_200, 60, 'A browser session ends this long after login, however active'),
    loginTimeoutSeconds: seconds(600, 30, 'Time to complete a login once the login page is shown (CSRF token, OIDC state)'),
    secureCookies: z
      .boolean()
      .default(false)
      .describe('Always mark cookies Secure. They are Secure anyway when the request came over TLS; set this behind a TLS-terminating proxy.'),
    oidc: z
      .array(browserOidcSchema)
      .default([])
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'provider ids must be unique')
      .describe('OIDC identity providers shown as buttons on the login page.'),
    saml: z
      .array(samlIdpSchema)
      .default([])
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'provider ids must be unique')
      .describe('SAML 2.0 identity providers shown as buttons on the login page (docs/identity.md, "SAML 2.0 sign-in").'),
  })
  .prefault({})
  .describe('The login page and browser sessions for the MLflow UI.');

export type BrowserConfig = z.infer<typeof browserSchema>;

/** The session store's timeouts from this config. */
export function sessionTimeouts(b: BrowserConfig): { idleMs: number; absoluteMs: number; pendingMs: number } {
  return { idleMs: b.idleTimeoutSeconds * 1000, absoluteMs: b.absoluteTimeoutSeconds * 1000, pendingMs: b.loginTimeoutSeconds * 1000 };
}
