/**
 * `auth.browser.saml`: SAML 2.0 identity providers offered as buttons on the login page
 * (src/web/saml-login.ts). Gatehouse is the service provider: SP-initiated Web Browser SSO
 * (AuthnRequest over HTTP-Redirect, Response over HTTP-POST) and single logout over
 * HTTP-Redirect (SAML 2.0 Profiles §4.1, §4.4). The IdP is described by its metadata file or by
 * its entity id, SSO URL and signing certificates.
 */
import { z } from 'zod';
import { browserAdminSchema, claimPath, listClaimSchema } from './claims.ts';
import { assertsLocalNamesSchema } from './local-names.ts';
import { linkSchema } from './link.ts';

export const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

const pem = z.string().regex(/-----BEGIN CERTIFICATE-----/, 'a PEM certificate');

export const samlAttributesSchema = z
  .strictObject({
    username: z
      .array(claimPath)
      .min(1)
      .default(['username', 'uid', 'urn:oid:0.9.2342.19200300.100.1.1'])
      .describe('Attributes tried in order for the display name; the NameID is used when none is present.'),
    email: claimPath.default('email').describe('Attribute holding the email address (`urn:oid:0.9.2342.19200300.100.1.3` for `mail` by OID).'),
    groups: listClaimSchema.optional().describe('Attribute(s) holding group names. Default `groups`.'),
    roles: listClaimSchema.optional().describe('Attribute(s) holding role names. Default: none.'),
    tenants: listClaimSchema.optional().describe('Attribute(s) holding tenant memberships. Default: none.'),
  })
  .prefault({})
  .describe('Where the principal\'s attributes are found in the assertion (names as the IdP sends them in `Attribute Name`); the same mapping rules as OIDC claims.');

export const samlIdpSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .describe('Provider id: in the SAML endpoints (`/_gatehouse/saml/<acs|slo|metadata|start>/<id>`) and principal ids (`<id>:<NameID>`).'),
    label: z.string().min(1).max(80).describe('Button text on the login page ("Sign in with <label>").'),
    baseUrl: z
      .url()
      .refine((v) => /^https?:$/.test(new URL(v).protocol) && new URL(v).pathname.replace(/\/+$/, '') === '' && !new URL(v).search && !new URL(v).hash, 'an http(s) origin without path')
      .describe('The gateway\'s public origin as the IdP and browsers reach it (`https://mlflow.example.com`): the assertion consumer service URL, the audience and the recipient every response must name are built from it. Plain http for tests only.'),
    entityId: z.string().min(1).optional().describe('This service provider\'s entity id (the audience). Default: the SP metadata URL, `<baseUrl>/_gatehouse/saml/metadata/<id>`.'),
    metadataFile: z.string().optional().describe('The IdP\'s SAML metadata (XML): entity id, SSO and SLO URLs (HTTP-Redirect) and signing certificates are read from it; explicit `idp*` options win.'),
    idpEntityId: z.string().min(1).optional().describe('The IdP\'s entity id: every assertion\'s `Issuer` must be exactly this.'),
    idpSsoUrl: z.url().optional().describe('The IdP\'s single sign-on URL (HTTP-Redirect binding).'),
    idpSloUrl: z.url().optional().describe('The IdP\'s single logout URL (HTTP-Redirect binding). Absent: sign-out ends the gateway session only.'),
    idpCertificates: z.array(pem).default([]).describe('The IdP\'s signing certificates (PEM); several during a key rollover.'),
    idpCertificateFiles: z.array(z.string()).default([]).describe('Files holding the IdP\'s signing certificates (PEM).'),
    privateKeyFile: z.string().optional().describe('This SP\'s private key (PEM) for signing AuthnRequests and logout messages; with `certificateFile`. Absent: requests are unsigned (most IdPs accept that; many require signed logout requests).'),
    certificateFile: z.string().optional().describe('This SP\'s certificate (PEM), published in its metadata.'),
    nameIdFormat: z.string().default(PERSISTENT).describe('The NameID format asked for. Persistent (the default) gives a stable, opaque subject: the principal id is `<id>:<NameID>`, so a NameID that changes (email, transient) makes a new principal.'),
    wantResponseSigned: z.boolean().default(false).describe('Also require the `Response` element itself to be signed (the assertion is always required to be signed).'),
    clockSkewSeconds: z.number().int().min(0).max(300).default(60).describe('Tolerance for `NotBefore` / `NotOnOrAfter` of the assertion and its subject confirmation (seconds).'),
    maxResponseBytes: z.number().int().min(4096).max(1024 * 1024).default(256 * 1024).describe('Largest `SAMLResponse` accepted (bytes, after base64 decoding); larger ones are refused before parsing.'),
    idpInitiated: z
      .boolean()
      .default(false)
      .describe('Accept IdP-initiated (unsolicited) responses. Off by default: such a response is not bound to a browser that asked to sign in (login CSRF) and has no `InResponseTo` to check.'),
    attributes: samlAttributesSchema,
    admin: browserAdminSchema,
    assertsLocalNames: assertsLocalNamesSchema,
    link: linkSchema,
    emailsVerified: z
      .boolean()
      .default(false)
      .describe('This IdP asserts only email addresses it has verified: its email attribute may bind a sign-in to a local user with `link: email`. Default false (never bound by email).'),
  })
  .refine((c) => (c.privateKeyFile === undefined) === (c.certificateFile === undefined), { message: 'set privateKeyFile and certificateFile together', path: ['privateKeyFile'] })
  .refine((c) => c.metadataFile !== undefined || (c.idpEntityId !== undefined && c.idpSsoUrl !== undefined && c.idpCertificates.length + c.idpCertificateFiles.length > 0), {
    message: 'set metadataFile, or idpEntityId, idpSsoUrl and idpCertificates / idpCertificateFiles',
    path: ['metadataFile'],
  })
  .describe('A SAML 2.0 identity provider offered as a button on the login page.');

export type SamlIdpConfig = z.infer<typeof samlIdpSchema>;
