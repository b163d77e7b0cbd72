/**
 * A real SAML 2.0 identity provider for tests: samlify (npm, in its IdP role) does the XML, the
 * signing and the parsing of what the gateway sends; this file only serves it over HTTP. Keys
 * and certificates come from the real `openssl` in a temporary directory.
 *
 *   GET  /metadata   the IdP's metadata (what an operator gives the gateway as `metadataFile`)
 *   GET  /sso        the gateway's AuthnRequest (HTTP-Redirect): a sign-in form
 *   POST /sso        the form: an auto-posting page carrying the signed Response to the ACS
 *   GET  /slo        the gateway's LogoutRequest (HTTP-Redirect): ends the IdP session and
 *                    redirects back with a signed LogoutResponse
 *
 * `respond` builds a Response outside the browser flow (attack cases start from a genuine one).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as samlify from 'samlify';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

// samlify refuses to parse until a schema validator is set; the gateway's messages are checked by
// samlify's own signature and structure checks (an XSD validator would need Java or libxml).
samlify.setSchemaValidator({ validate: async () => 'skipped' });

export interface SamlUser {
  /** The persistent NameID. */
  readonly nameId: string;
  readonly username: string;
  readonly email: string;
  readonly groups: readonly string[];
}

/** What a test changes in one Response (defaults: a genuine answer to the request). */
export interface ResponseOptions {
  readonly inResponseTo?: string | undefined;
  readonly audience?: string;
  readonly recipient?: string;
  readonly destination?: string;
  /** Validity window start (default now) and length (default 5 minutes). */
  readonly issuedAt?: Date;
  readonly validForMs?: number;
  /** Sign with RSA-SHA1 / SHA-1 digests instead of RSA-SHA256. */
  readonly sha1?: boolean;
  /** The Issuer element's text (default this IdP's entity id). */
  readonly issuer?: string;
}

export interface SamlIdp {
  readonly url: string;
  readonly entityId: string;
  readonly metadataFile: string;
  readonly certificate: string;
  /** Trust the gateway SP described by this metadata (fetched from its metadata endpoint). */
  registerSp(metadata: string): void;
  /** A base64 SAMLResponse for `user`, signed as the IdP signs them. */
  respond(user: SamlUser, options?: ResponseOptions): Promise<string>;
  /** An IdP-initiated LogoutRequest URL (HTTP-Redirect) for `user`'s session at the gateway. */
  logoutRequestUrl(user: SamlUser): string;
  /** LogoutRequests received from the gateway, decoded. */
  readonly logoutRequests: string[];
  close(): Promise<void>;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function attributeStatement(user: SamlUser): string {
  const attribute = (name: string, values: readonly string[]) =>
    `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
      .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
      .join('')}</saml:Attribute>`;
  return `<saml:AttributeStatement>${attribute('username', [user.username])}${attribute('email', [user.email])}${attribute('groups', user.groups)}</saml:AttributeStatement>`;
}

function selfSigned(dir: string, name: string): { key: string; cert: string; keyFile: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile };
}

/** An SP key pair for the gateway (signed AuthnRequests and logout messages). */
export function spKeyPair(): { keyFile: string; certFile: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-saml-sp-'));
  const { keyFile, certFile } = selfSigned(dir, 'gatehouse-sp');
  return { keyFile, certFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startSamlIdp(users: readonly SamlUser[]): Promise<SamlIdp> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-saml-idp-'));
  const { key, cert } = selfSigned(dir, 'test-idp');
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const entityId = `${url}/metadata`;
  const settings = (signatureAlgorithm: string) => ({
    entityID: entityId,
    privateKey: key,
    signingCert: cert,
    requestSignatureAlgorithm: signatureAlgorithm,
    nameIDFormat: [PERSISTENT],
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: `${url}/sso` }],
    singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: `${url}/slo` }],
  });
  const idp = samlify.IdentityProvider(settings(RSA_SHA256));
  const sha1Idp = samlify.IdentityProvider(settings(RSA_SHA1));
  const metadataFile = join(dir, 'idp-metadata.xml');
  writeFileSync(metadataFile, idp.getMetadata());

  let sp: samlify.ServiceProviderInstance | undefined;
  const pending = new Map<string, { requestId: string; relayState: string }>();
  const logoutRequests: string[] = [];

  async function respond(user: SamlUser, o: ResponseOptions = {}): Promise<string> {
    if (!sp) throw new Error('registerSp first');
    const meta = sp.entityMeta;
    const acs = meta.getAssertionConsumerService('post') as string;
    const issued = o.issuedAt ?? new Date();
    const until = new Date(issued.getTime() + (o.validForMs ?? 5 * 60_000)).toISOString();
    const id = `_${randomBytes(16).toString('hex')}`;
    const values = {
      ID: id,
      AssertionID: `_${randomBytes(16).toString('hex')}`,
      Destination: o.destination ?? acs,
      Audience: o.audience ?? meta.getEntityID(),
      SubjectRecipient: o.recipient ?? acs,
      Issuer: o.issuer ?? entityId,
      IssueInstant: issued.toISOString(),
      StatusCode: samlify.Constants.StatusCode.Success,
      ConditionsNotBefore: issued.toISOString(),
      ConditionsNotOnOrAfter: until,
      SubjectConfirmationDataNotOnOrAfter: until,
      NameIDFormat: PERSISTENT,
      NameID: user.nameId,
      InResponseTo: o.inResponseTo ?? '',
    };
    const authnStatement = `<saml:AuthnStatement AuthnInstant="${issued.toISOString()}" SessionIndex="${id}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
    const ctx = await (o.sha1 ? sha1Idp : idp).createLoginResponse(sp, { extract: { request: { id: o.inResponseTo } } } as never, 'post', { email: user.email }, (template: string) => {
      let xml = samlify.SamlLib.replaceTagsByValue(template, values);
      // Unsolicited: no InResponseTo at all (saml-profiles §4.1.5), not an empty one.
      if (o.inResponseTo === undefined) xml = xml.replaceAll(' InResponseTo=""', '');
      // Markup: the placeholders are left alone by the value replacement (which escapes) and filled here.
      return { id, context: xml.replace('{AuthnStatement}', authnStatement).replace('{AttributeStatement}', attributeStatement(user)) };
    });
    return ctx.context;
  }

  const html = (body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>Test SAML IdP</title></head><body>${body}</body></html>`;

  server.on('request', (req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', url);
      const body = await new Promise<string>((r) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => r(Buffer.concat(chunks).toString()));
      });
      const query = Object.fromEntries(u.searchParams);
      const octetString = u.search.slice(1).split('&').filter((p) => !p.startsWith('Signature=')).join('&');
      if (req.method === 'GET' && u.pathname === '/metadata') {
        res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp.getMetadata());
      } else if (req.method === 'GET' && u.pathname === '/sso' && sp) {
        const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString });
        const key = randomBytes(16).toString('hex');
        pending.set(key, { requestId: (parsed.extract as { request: { id: string } }).request.id, relayState: query.RelayState ?? '' });
        res.writeHead(200, { 'content-type': 'text/html' }).end(
          html(`<h1>Test SAML IdP</h1><form method="post" action="/sso"><input type="hidden" name="key" value="${key}"><label>User <input name="user" autofocus></label><button type="submit">Sign in</button></form>`),
        );
      } else if (req.method === 'POST' && u.pathname === '/sso' && sp) {
        const form = new URLSearchParams(body);
        const flow = pending.get(form.get('key') ?? '');
        const user = users.find((x) => x.username === form.get('user'));
        if (!flow || !user) return void res.writeHead(401, { 'content-type': 'text/html' }).end(html('<p>unknown user</p>'));
        pending.delete(form.get('key')!);
        const response = await respond(user, { inResponseTo: flow.requestId });
        const acs = sp.entityMeta.getAssertionConsumerService('post') as string;
        res.writeHead(200, { 'content-type': 'text/html' }).end(
          html(
            `<form id="f" method="post" action="${escapeXml(acs)}"><input type="hidden" name="SAMLResponse" value="${response}"><input type="hidden" name="RelayState" value="${escapeXml(flow.relayState)}"><noscript><button type="submit">Continue</button></noscript></form><script>document.getElementById('f').submit()</script>`,
          ),
        );
      } else if (req.method === 'GET' && u.pathname === '/slo' && sp && query.SAMLRequest) {
        const parsed = await idp.parseLogoutRequest(sp, 'redirect', { query, octetString });
        logoutRequests.push(parsed.samlContent);
        const { context } = idp.createLogoutResponse(sp, parsed as never, 'redirect', query.RelayState ?? '') as { context: string };
        res.writeHead(302, { location: context }).end();
      } else {
        res.writeHead(404).end();
      }
    })().catch((err: Error) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`test IdP: ${err.message}`);
    });
  });

  return {
    url,
    entityId,
    metadataFile,
    certificate: cert,
    logoutRequests,
    registerSp(metadata) {
      sp = samlify.ServiceProvider({ metadata, wantLogoutResponseSigned: true, wantLogoutRequestSigned: true });
    },
    respond,
    logoutRequestUrl(user) {
      if (!sp) throw new Error('registerSp first');
      return (idp.createLogoutRequest(sp, 'redirect', { logoutNameID: user.nameId, email: user.email }) as { context: string }).context;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
