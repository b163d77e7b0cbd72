/**
 * Why a SAML response or logout message was refused: one reason id per case, as the login page's
 * refusal, the log line and the `session.signInFailed` admin event carry it (docs/identity.md,
 * "SAML: what is refused"). node-saml reports failures as error messages; `reasonOf` maps them.
 */
import type { XmlRefusal } from './saml-checks.ts';

export const SAML_REASONS = {
  'malformed': 'not one well-formed SAML Response (or not base64)',
  'too-large': 'the SAMLResponse is larger than maxResponseBytes',
  'doctype': 'the message declares a document type (entity expansion is never read)',
  'xml-comment': 'the message contains an XML comment (comment injection: a signature survives it, a text reader may not)',
  'weak-algorithm': 'a signature or digest uses SHA-1 or an algorithm outside the allowed list',
  'unsigned': 'the message carries no signature',
  'not-one-assertion': 'not exactly one Response with exactly one Assertion (XML signature wrapping)',
  'encrypted-assertion': 'an encrypted assertion (no decryption key is configured)',
  'bad-signature': 'no valid signature of the trusted IdP over the assertion (tampered, re-signed or wrapped)',
  'response-unsigned': 'wantResponseSigned is set and the Response element itself is not signed',
  'expired': 'the assertion or its subject confirmation is past NotOnOrAfter (beyond the clock skew)',
  'not-yet-valid': 'the assertion is before NotBefore (beyond the clock skew)',
  'wrong-audience': 'the assertion\'s AudienceRestriction does not name this service provider',
  'wrong-recipient': 'no bearer SubjectConfirmation names this assertion consumer service as Recipient',
  'wrong-destination': 'the Response\'s Destination is not this assertion consumer service',
  'wrong-issuer': 'the assertion was not issued by this provider\'s IdP (a response from another IdP)',
  'in-response-to-mismatch': 'InResponseTo does not name the request this browser started',
  'unsolicited': 'an IdP-initiated response (no InResponseTo) and idpInitiated is off',
  'replayed': 'this assertion was already used to sign in',
  'no-subject': 'the assertion has no NameID usable as a subject',
  'idp-error': 'the IdP answered with a non-success status',
  'relay-state-mismatch': 'the RelayState is not the one bound to this browser\'s sign-in',
  'no-pending-login': 'no sign-in with this provider was started in this browser (or it expired)',
} as const;

export type SamlReason = keyof typeof SAML_REASONS;

/** The reason id for a node-saml error message (their wording, saml.js / xml.js of @node-saml/node-saml 5). */
export function reasonOf(err: unknown): SamlReason {
  const m = err instanceof Error ? err.message : String(err);
  if (/SAML provider returned/.test(m)) return 'idp-error';
  if (/expired/.test(m)) return 'expired';
  if (/not yet valid/.test(m)) return 'not-yet-valid';
  if (/audience|AudienceRestriction/i.test(m)) return 'wrong-audience';
  if (/InResponseTo/i.test(m)) return 'in-response-to-mismatch';
  if (/subject confirmation/i.test(m)) return 'expired';
  if (/Invalid document signature/.test(m)) return 'response-unsigned';
  if (/multiple assertions/.test(m)) return 'not-one-assertion';
  if (/signature|ID cannot refer|Referenced node|transforms/i.test(m)) return 'bad-signature';
  return 'malformed';
}

export const xmlReason = (r: XmlRefusal): SamlReason => r;
