/**
 * A SAML 2.0 service provider for one IdP, on node-saml (signature verification, conditions,
 * audience, InResponseTo: never hand-written XML signature code). Around it, what node-saml does
 * not do or does not do strictly enough: the message checks of saml-checks.ts before it reads
 * anything, the injected clock (its own reads `new Date()`), `Recipient`, `Destination` and
 * `Issuer`, `InResponseTo` bound to the one request this browser started, and the replay cache.
 * The verified assertion's attributes become a principal through the OIDC claim mapping
 * (src/identity/oidc-principal.ts): one mapping rule for both protocols. The principal id is
 * `<provider id>:<NameID>`.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { SAML, ValidateInResponseTo, type Profile, type SamlConfig } from '@node-saml/node-saml';
import { compileMapping } from './oidc-principal.ts';
import { IDENTITY } from './local-names.ts';
import type { Principal } from '../model/principal.ts';
import { destinationOf, messageRefusal, parseSamlXml, responseRefusal, SIGNATURE_ALGORITHMS } from './saml-checks.ts';
import type { SamlIdpConfig } from './saml-config.ts';
import { REDIRECT, trustedIdp, type TrustedIdp } from './saml-metadata.ts';
import { reasonOf, type SamlReason } from './saml-reasons.ts';

/** What a signed-in SAML session remembers for single logout. */
export interface SamlSessionRef {
  readonly provider: string;
  readonly nameID: string;
  readonly nameIDFormat: string;
  readonly sessionIndex?: string | undefined;
}

export type SamlOutcome =
  | { readonly kind: 'principal'; readonly principal: Principal; readonly session: SamlSessionRef }
  | { readonly kind: 'refused'; readonly reason: SamlReason; readonly detail?: string };

export type SamlLogoutMessage =
  | { readonly kind: 'request'; readonly principalId: string; readonly respond: (relayState: string) => Promise<string> }
  | { readonly kind: 'response' }
  | { readonly kind: 'refused'; readonly reason: SamlReason; readonly detail?: string };

export interface SamlDeps {
  readonly now: () => number;
  /** Records an assertion id until it expires; false when it was already recorded (a replay). */
  readonly firstUse: (assertionId: string, expiresAt: number) => Promise<boolean>;
}

/** node-saml reading the gateway's clock instead of its own `new Date()`. */
class ClockedSaml extends SAML {
  private readonly clock: () => number;
  constructor(config: SamlConfig, clock: () => number) {
    super(config);
    this.clock = clock;
  }
  protected override checkTimestampsValidityError(_nowMs: number, notBefore: string, notOnOrAfter: string, maxTimeLimitMs?: number): Error | null {
    return super.checkTimestampsValidityError(this.clock(), notBefore, notOnOrAfter, maxTimeLimitMs);
  }
}

const refused = (reason: SamlReason, detail?: string) => ({ kind: 'refused' as const, reason, ...(detail !== undefined && { detail }) });
type Xml2Js = Record<string, unknown> & { $?: Record<string, string>; _?: string };
const first = (v: unknown): Xml2Js | undefined => (Array.isArray(v) ? (v[0] as Xml2Js) : undefined);

export function samlServiceProvider(config: SamlIdpConfig, deps: SamlDeps) {
  const idp: TrustedIdp = trustedIdp(config);
  const base = config.baseUrl.replace(/\/+$/, '');
  const acsUrl = `${base}/_gatehouse/saml/acs/${config.id}`;
  const sloUrl = `${base}/_gatehouse/saml/slo/${config.id}`;
  const metadataUrl = `${base}/_gatehouse/saml/metadata/${config.id}`;
  const entityId = config.entityId ?? metadataUrl;
  const spKey = config.privateKeyFile !== undefined ? readFileSync(config.privateKeyFile, 'utf8') : undefined;
  const spCert = config.certificateFile !== undefined ? readFileSync(config.certificateFile, 'utf8') : undefined;
  const toPrincipal = compileMapping({
    id: config.id,
    claims: { subject: 'sub', ...config.attributes },
    serviceAccount: 'never',
    admin: config.admin,
    assertsLocalNames: config.assertsLocalNames,
    method: 'saml',
    emailsVerified: config.emailsVerified,
  });

  /** One node-saml instance per message: `expected` is the only request id its InResponseTo may name. */
  const saml = (expected?: { id: string }) =>
    new ClockedSaml(
      {
        idpCert: [...idp.certificates],
        issuer: entityId,
        audience: entityId,
        callbackUrl: acsUrl,
        entryPoint: idp.ssoUrl,
        ...(idp.sloUrl !== undefined && { logoutUrl: idp.sloUrl }),
        logoutCallbackUrl: sloUrl,
        identifierFormat: config.nameIdFormat,
        wantAssertionsSigned: true,
        wantAuthnResponseSigned: config.wantResponseSigned,
        acceptedClockSkewMs: config.clockSkewSeconds * 1000,
        disableRequestedAuthnContext: true,
        signatureAlgorithm: 'sha256',
        digestAlgorithm: 'sha256',
        ...(spKey !== undefined && { privateKey: spKey, publicCert: spCert }),
        validateInResponseTo: expected ? ValidateInResponseTo.always : ValidateInResponseTo.never,
        ...(expected && {
          generateUniqueId: () => expected.id,
          cacheProvider: {
            saveAsync: async (key: string, value: string) => ({ value, createdAt: deps.now() }),
            // node-saml compares this with its own clock; the pending login's expiry (the gateway's clock) bounds it.
            getAsync: async (key: string) => (key === expected.id ? new Date().toISOString() : null),
            removeAsync: async (key: string | null) => key,
          },
        }),
      },
      deps.now,
    );

  /** Everything node-saml leaves to the caller, on the verified assertion. */
  async function accept(profile: Profile): Promise<SamlOutcome> {
    if (profile.issuer !== idp.entityId) return refused('wrong-issuer', String(profile.issuer));
    const assertion = (profile.getAssertion?.() as { Assertion?: Xml2Js } | undefined)?.Assertion;
    const confirmations = (first(assertion?.Subject)?.SubjectConfirmation ?? []) as Xml2Js[];
    const bearer = confirmations.filter((c) => c.$?.Method === 'urn:oasis:names:tc:SAML:2.0:cm:bearer').map((c) => first(c.SubjectConfirmationData)?.$);
    if (!bearer.some((d) => d?.Recipient === acsUrl)) return refused('wrong-recipient');
    const nameID = profile.nameID;
    if (typeof nameID !== 'string' || !IDENTITY.test(`${config.id}:${nameID}`)) return refused('no-subject');
    const assertionId = assertion?.$?.ID;
    const expiries = [first(assertion?.Conditions)?.$?.NotOnOrAfter, ...bearer.map((d) => d?.NotOnOrAfter)].map((t) => (t ? Date.parse(t) : NaN)).filter(Number.isFinite);
    const until = (expiries.length > 0 ? Math.max(...expiries) : deps.now() + 3_600_000) + config.clockSkewSeconds * 1000;
    if (!assertionId || !(await deps.firstUse(`${config.id}:${assertionId}`, until))) return refused('replayed');
    const principal = toPrincipal({ ...(profile.attributes as Record<string, unknown> | undefined), sub: nameID });
    if (!principal) return refused('no-subject');
    return { kind: 'principal', principal, session: { provider: config.id, nameID, nameIDFormat: profile.nameIDFormat ?? config.nameIdFormat, sessionIndex: profile.sessionIndex } };
  }

  return {
    id: config.id,
    label: config.label,
    entityId,
    acsUrl,
    idp,
    maxResponseBytes: config.maxResponseBytes,
    /** This SP's metadata (give it to the IdP). */
    metadata: (): string =>
      // node-saml always advertises its logout endpoint with the HTTP-POST binding (its metadata.js);
      // this one is HTTP-Redirect (GET /_gatehouse/saml/slo/<id>), so say that.
      saml()
        .generateServiceProviderMetadata(null, spCert ?? null)
        .replace('<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"', `<SingleLogoutService Binding="${REDIRECT}"`),

    /** The IdP URL (HTTP-Redirect AuthnRequest) for a new sign-in with this request id and relay state. */
    start: (requestId: string, relayState: string): Promise<string> => saml({ id: requestId }).getAuthorizeUrlAsync(relayState, undefined, {}),

    /** Checks a posted `SAMLResponse`; `requestId` is the request this browser started (undefined: none). */
    async finish(samlResponse: string, requestId: string | undefined): Promise<SamlOutcome> {
      const xml = /^[A-Za-z0-9+/=\s]+$/.test(samlResponse) ? Buffer.from(samlResponse, 'base64').toString('utf8') : undefined;
      if (xml === undefined) return refused('malformed');
      if (Buffer.byteLength(xml) > config.maxResponseBytes) return refused('too-large');
      const doc = parseSamlXml(xml);
      if (!doc) return refused('malformed');
      const bad = responseRefusal(xml, doc);
      if (bad) return refused(bad);
      const destination = destinationOf(doc);
      if ((destination !== undefined || config.wantResponseSigned) && destination !== acsUrl) return refused('wrong-destination', destination);
      const inResponseTo = doc.documentElement!.getAttribute('InResponseTo') || undefined;
      if (inResponseTo === undefined && !config.idpInitiated) return refused('unsolicited');
      if (inResponseTo !== undefined && requestId === undefined) return refused('no-pending-login');
      try {
        const { profile } = await saml(inResponseTo !== undefined ? { id: requestId! } : undefined).validatePostResponseAsync({ SAMLResponse: samlResponse });
        if (!profile) return refused('malformed');
        return await accept(profile);
      } catch (err) {
        return refused(reasonOf(err), (err as Error).message);
      }
    },

    /** The IdP's logout URL for this session (SP-initiated single logout), when the IdP has one. */
    async logoutUrl(session: SamlSessionRef, relayState: string): Promise<string | undefined> {
      if (idp.sloUrl === undefined) return undefined;
      const profile = { issuer: idp.entityId, nameID: session.nameID, nameIDFormat: session.nameIDFormat, ...(session.sessionIndex !== undefined && { sessionIndex: session.sessionIndex }) };
      return saml().getLogoutUrlAsync(profile, relayState, {});
    },

    /** A message at the SLO endpoint (HTTP-Redirect): a signed LogoutRequest from the IdP, or the LogoutResponse to ours. */
    async logoutMessage(query: Record<string, string>, rawQuery: string): Promise<SamlLogoutMessage> {
      const encoded = query.SAMLRequest ?? query.SAMLResponse;
      if (encoded === undefined) return refused('malformed');
      let xml: string;
      try {
        xml = inflateRawSync(Buffer.from(encoded, 'base64'), { maxOutputLength: config.maxResponseBytes }).toString('utf8');
      } catch {
        return refused('malformed');
      }
      const doc = parseSamlXml(xml);
      if (!doc) return refused('malformed');
      const bad = messageRefusal(xml, doc);
      if (bad) return refused(bad);
      // node-saml accepts an unsigned redirect message (it checks a signature only when one is sent).
      if (query.Signature === undefined || query.SigAlg === undefined) return refused('unsigned');
      if (!SIGNATURE_ALGORITHMS.has(query.SigAlg)) return refused('weak-algorithm');
      try {
        const { profile } = await saml().validateRedirectAsync(query, rawQuery);
        if (query.SAMLResponse !== undefined) return { kind: 'response' };
        if (!profile || profile.issuer !== idp.entityId) return refused('wrong-issuer');
        if (typeof profile.nameID !== 'string') return refused('no-subject');
        return { kind: 'request', principalId: `${config.id}:${profile.nameID}`, respond: (relayState) => saml().getLogoutResponseUrlAsync(profile, relayState, {}, true) };
      } catch (err) {
        return refused(reasonOf(err), (err as Error).message);
      }
    },
  };
}

export type SamlServiceProvider = ReturnType<typeof samlServiceProvider>;
