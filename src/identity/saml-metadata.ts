/**
 * The IdP a SAML provider trusts: from its metadata file (SAML 2.0 Metadata §2.4.3
 * `IDPSSODescriptor`: entity id, HTTP-Redirect `SingleSignOnService` / `SingleLogoutService`,
 * `KeyDescriptor use="signing"` certificates) and the explicit `idp*` options, which win. Read once
 * at start; a problem is a configuration error naming the option.
 */
import { readFileSync } from 'node:fs';
import { parseSamlXml, type XNode } from './saml-checks.ts';
import type { SamlIdpConfig } from './saml-config.ts';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
export const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface TrustedIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly sloUrl: string | undefined;
  /** PEM certificates. */
  readonly certificates: readonly string[];
}

const asPem = (base64: string) => `-----BEGIN CERTIFICATE-----\n${base64.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

function fromMetadata(file: string): Partial<TrustedIdp> {
  const xml = readFileSync(file, 'utf8');
  const doc = parseSamlXml(xml);
  if (!doc || /<!DOCTYPE/i.test(xml)) throw new Error(`${file}: not a SAML metadata document`);
  const idp = doc.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  const entity = idp?.parentNode;
  if (!idp || !entity) throw new Error(`${file}: no IDPSSODescriptor`);
  const all = (root: XNode, ns: string, name: string): XNode[] => Array.from(root.getElementsByTagNameNS(ns, name));
  const service = (name: string) => all(idp, MD, name).find((e) => e.getAttribute('Binding') === REDIRECT)?.getAttribute('Location') ?? undefined;
  const certificates = all(idp, MD, 'KeyDescriptor')
    .filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((k) => all(k, DSIG, 'X509Certificate').map((c) => asPem(c.textContent ?? '')));
  return { entityId: entity.getAttribute('entityID') ?? undefined, ssoUrl: service('SingleSignOnService'), sloUrl: service('SingleLogoutService'), certificates };
}

/** The IdP this provider trusts; throws naming what is missing. */
export function trustedIdp(config: SamlIdpConfig): TrustedIdp {
  const meta = config.metadataFile !== undefined ? fromMetadata(config.metadataFile) : {};
  const explicit = [...config.idpCertificates, ...config.idpCertificateFiles.map((f) => readFileSync(f, 'utf8'))];
  const certificates = explicit.length > 0 ? explicit : (meta.certificates ?? []);
  const entityId = config.idpEntityId ?? meta.entityId;
  const ssoUrl = config.idpSsoUrl ?? meta.ssoUrl;
  if (!entityId) throw new Error(`auth.browser.saml ${config.id}: no IdP entity id (idpEntityId or metadataFile)`);
  if (!ssoUrl) throw new Error(`auth.browser.saml ${config.id}: no HTTP-Redirect single sign-on URL (idpSsoUrl or metadataFile)`);
  if (certificates.length === 0) throw new Error(`auth.browser.saml ${config.id}: no IdP signing certificate (idpCertificates, idpCertificateFiles or metadataFile)`);
  return { entityId, ssoUrl, sloUrl: config.idpSloUrl ?? meta.sloUrl, certificates };
}
