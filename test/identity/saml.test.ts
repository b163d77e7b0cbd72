/**
 * The SAML service provider (src/identity/saml.ts) against a real IdP it did not write (samlify
 * in the IdP role, test/harness/saml-idp.ts): a genuine response signs in, mapped like OIDC
 * claims; every attack case starts from a genuine signed response and is refused with its reason
 * id. The gateway's clock is injected; the IdP signs with its own (real) one, so "expired" moves
 * the gateway's clock past the assertion's window (and passes under faketime too).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { samlIdpSchema } from '../../src/identity/saml-config.ts';
import { samlServiceProvider, type SamlServiceProvider } from '../../src/identity/saml.ts';
import { spKeyPair, startSamlIdp, type SamlIdp, type SamlUser } from '../harness/saml-idp.ts';

const ALICE: SamlUser = { nameId: 'f3a9c2e1-alice', username: 'alice', email: 'alice@example.com', groups: ['mlflow-team-a', 'staff'] };
const BASE = 'http://gatehouse.test:8080';
const ACS = `${BASE}/_gatehouse/saml/acs/corp`;

let idp: SamlIdp;
let keys: ReturnType<typeof spKeyPair>;
let sp: SamlServiceProvider;
let skewMs = 0;
const used = new Map<string, number>();

before(async () => {
  idp = await startSamlIdp([ALICE]);
  keys = spKeyPair();
  const config = samlIdpSchema.parse({
    id: 'corp',
    label: 'Corp',
    baseUrl: BASE,
    metadataFile: idp.metadataFile,
    privateKeyFile: keys.keyFile,
    certificateFile: keys.certFile,
    attributes: { tenants: { path: 'groups', prefix: 'mlflow-' } },
  });
  sp = samlServiceProvider(config, {
    now: () => Date.now() + skewMs,
    firstUse: async (id, expiresAt) => {
      if (used.has(id)) return false;
      used.set(id, expiresAt);
      return true;
    },
  });
  idp.registerSp(sp.metadata());
});

after(async () => {
  await idp?.close();
  keys?.dispose();
});

let counter = 0;
const newRequest = () => `_req${++counter}${Date.now()}`;
const decode = (r: string) => Buffer.from(r, 'base64').toString('utf8');
const encode = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

async function refusal(response: string, requestId: string | undefined): Promise<string> {
  const outcome = await sp.finish(response, requestId);
  assert.equal(outcome.kind, 'refused', `expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome.kind === 'refused' ? outcome.reason : '';
}

describe('SAML SP-initiated sign-in against samlify', () => {
  test('the AuthnRequest goes to the IdP over HTTP-Redirect, signed with SHA-256, and the IdP accepts it', async () => {
    const requestId = newRequest();
    const url = new URL(await sp.start(requestId, 'relay-1'));
    assert.equal(url.origin + url.pathname, `${idp.url}/sso`);
    assert.equal(url.searchParams.get('RelayState'), 'relay-1');
    assert.equal(url.searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    // samlify parses and verifies it (a 400 from the harness otherwise).
    const res = await fetch(url);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /Test SAML IdP/);
  });

  test('the SP metadata names the ACS (HTTP-POST), the SLO endpoint, wants signed assertions and carries the SP certificate', () => {
    const xml = sp.metadata();
    assert.match(xml, new RegExp(`AssertionConsumerService[^>]*Location="${ACS}"`));
    assert.match(xml, /SingleLogoutService[^>]*Location="http:\/\/gatehouse.test:8080\/_gatehouse\/saml\/slo\/corp"/);
    assert.match(xml, /WantAssertionsSigned="true"/);
    assert.match(xml, /X509Certificate/);
    assert.equal(sp.entityId, `${BASE}/_gatehouse/saml/metadata/corp`);
  });

  test('a genuine response is a principal `<id>:<NameID>` mapped with the OIDC claim rules', async () => {
    const requestId = newRequest();
    const outcome = await sp.finish(await idp.respond(ALICE, { inResponseTo: requestId }), requestId);
    assert.equal(outcome.kind, 'principal', JSON.stringify(outcome));
    if (outcome.kind !== 'principal') return;
    const p = outcome.principal;
    assert.equal(p.id, 'corp:f3a9c2e1-alice');
    assert.equal(p.name, 'alice');
    assert.equal(p.email, 'alice@example.com');
    assert.deepEqual([...p.groups], ['mlflow-team-a', 'staff']);
    assert.deepEqual([...p.tenants], ['team-a'], 'tenants from a group prefix, as for OIDC');
    assert.equal(p.method, 'saml');
    assert.equal(p.provider, 'corp');
    assert.equal(outcome.session.nameID, 'f3a9c2e1-alice');
  });
});

describe('SAML responses refused, each with its reason id', () => {
  test('replayed: the same assertion a second time', async () => {
    const requestId = newRequest();
    const response = await idp.respond(ALICE, { inResponseTo: requestId });
    assert.equal((await sp.finish(response, requestId)).kind, 'principal');
    assert.equal(await refusal(response, requestId), 'replayed');
  });

  test('tampered: an attribute changed after signing', async () => {
    const requestId = newRequest();
    const xml = decode(await idp.respond(ALICE, { inResponseTo: requestId }));
    assert.ok(xml.includes('>staff<'));
    assert.equal(await refusal(encode(xml.replace('>staff<', '>admins<')), requestId), 'bad-signature');
  });

  test('unsigned: the signature removed', async () => {
    const requestId = newRequest();
    const xml = decode(await idp.respond(ALICE, { inResponseTo: requestId }));
    const unsigned = xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    assert.notEqual(unsigned, xml);
    assert.equal(await refusal(encode(unsigned), requestId), 'unsigned');
  });

  test('wrapped: a forged assertion beside the signed one (XML signature wrapping)', async () => {
    const requestId = newRequest();
    const xml = decode(await idp.respond(ALICE, { inResponseTo: requestId }));
    const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
    const forged = assertion.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace('f3a9c2e1-alice', 'admin').replace(/ID="[^"]+"/, 'ID="_evil"');
    // XSW variant: the forged assertion first, the genuine one (still validly signed) kept after it.
    const wrapped = xml.replace(assertion, forged + assertion);
    assert.equal(await refusal(encode(wrapped), requestId), 'not-one-assertion');
    // Variant: the genuine assertion hidden in the signature's Object, the forged one in its place.
    const hidden = xml.replace(assertion, forged.replace('</saml:Assertion>', `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>${assertion}</ds:Object></ds:Signature></saml:Assertion>`));
    assert.equal(await refusal(encode(hidden), requestId), 'not-one-assertion');
  });

  test('comment injection: a comment inside the NameID keeps the signature but is refused', async () => {
    const requestId = newRequest();
    const xml = decode(await idp.respond({ ...ALICE, nameId: 'admin.evil' }, { inResponseTo: requestId }));
    const injected = xml.replace('>admin.evil<', '>admin<!---->.evil<');
    assert.notEqual(injected, xml);
    assert.equal(await refusal(encode(injected), requestId), 'xml-comment');
  });

  test('SHA-1: signed with RSA-SHA1 and SHA-1 digests by the trusted key', async () => {
    const requestId = newRequest();
    const xml = decode(await idp.respond(ALICE, { inResponseTo: requestId, sha1: true }));
    assert.match(xml, /xmldsig#rsa-sha1/);
    assert.equal(await refusal(encode(xml), requestId), 'weak-algorithm');
  });

  test('expired: the gateway clock past NotOnOrAfter beyond the skew; within the skew it passes', async () => {
    const late = newRequest();
    const response = await idp.respond(ALICE, { inResponseTo: late, validForMs: 60_000 });
    skewMs = 60_000 + 61_000;
    try {
      assert.equal(await refusal(response, late), 'expired');
    } finally {
      skewMs = 0;
    }
    const inSkew = newRequest();
    const ok = await idp.respond(ALICE, { inResponseTo: inSkew, validForMs: 60_000 });
    skewMs = 60_000 + 30_000;
    try {
      assert.equal((await sp.finish(ok, inSkew)).kind, 'principal');
    } finally {
      skewMs = 0;
    }
  });

  test('not yet valid: the gateway clock before NotBefore beyond the skew', async () => {
    const requestId = newRequest();
    const response = await idp.respond(ALICE, { inResponseTo: requestId });
    skewMs = -120_000;
    try {
      assert.equal(await refusal(response, requestId), 'not-yet-valid');
    } finally {
      skewMs = 0;
    }
  });

  test('wrong audience, recipient, destination, issuer', async () => {
    let r = newRequest();
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: r, audience: 'https://other-sp.example/' }), r), 'wrong-audience');
    r = newRequest();
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: r, recipient: 'https://other-sp.example/acs' }), r), 'wrong-recipient');
    r = newRequest();
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: r, destination: 'https://other-sp.example/acs' }), r), 'wrong-destination');
    r = newRequest();
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: r, issuer: 'https://other-idp.example/' }), r), 'wrong-issuer');
  });

  test('InResponseTo: another request than the one this browser started; none pending; IdP-initiated', async () => {
    const mine = newRequest();
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: newRequest() }), mine), 'in-response-to-mismatch');
    assert.equal(await refusal(await idp.respond(ALICE, { inResponseTo: newRequest() }), undefined), 'no-pending-login');
    assert.equal(await refusal(await idp.respond(ALICE, {}), mine), 'unsolicited', 'IdP-initiated is off by default');
  });

  test('a document type, garbage, and a response larger than maxResponseBytes', async () => {
    const r = newRequest();
    const xml = decode(await idp.respond(ALICE, { inResponseTo: r }));
    assert.equal(await refusal(encode(`<!DOCTYPE x [<!ENTITY a "b">]>${xml}`), r), 'doctype');
    assert.equal(await refusal('not base64 at all!', r), 'malformed');
    assert.equal(await refusal(encode('<a>'), r), 'malformed');
    assert.equal(await refusal(encode(xml.replace('<saml:AttributeStatement>', `<saml:AttributeStatement>${' '.repeat(300 * 1024)}`)), r), 'too-large');
  });
});

describe('wantResponseSigned', () => {
  test('a response whose assertion alone is signed is refused when the Response must be signed too', async () => {
    const config = samlIdpSchema.parse({ id: 'corp', label: 'Corp', baseUrl: BASE, metadataFile: idp.metadataFile, wantResponseSigned: true });
    const strict = samlServiceProvider(config, { now: Date.now, firstUse: async () => true });
    const requestId = newRequest();
    const outcome = await strict.finish(await idp.respond(ALICE, { inResponseTo: requestId }), requestId);
    assert.equal(outcome.kind === 'refused' && outcome.reason, 'response-unsigned', JSON.stringify(outcome));
  });
});

describe('IdP-initiated sign-in when the operator turns it on', () => {
  test('an unsolicited response is accepted once; the replay cache is then all that stops a replay', async () => {
    const config = samlIdpSchema.parse({ id: 'corp', label: 'Corp', baseUrl: BASE, metadataFile: idp.metadataFile, idpInitiated: true });
    const open = samlServiceProvider(config, {
      now: Date.now,
      firstUse: async (id) => {
        if (used.has(id)) return false;
        used.set(id, 0);
        return true;
      },
    });
    const response = await idp.respond(ALICE, {});
    const outcome = await open.finish(response, undefined);
    assert.equal(outcome.kind, 'principal', JSON.stringify(outcome));
    const again = await open.finish(response, undefined);
    assert.equal(again.kind === 'refused' && again.reason, 'replayed');
  });
});

describe('SAML single logout messages', () => {
  test('an unsigned LogoutRequest is refused; one signed by the IdP names the principal', async () => {
    const signed = new URL(idp.logoutRequestUrl(ALICE));
    assert.equal(signed.origin + signed.pathname, `${BASE}/_gatehouse/saml/slo/corp`);
    const unsigned = new URLSearchParams({ SAMLRequest: signed.searchParams.get('SAMLRequest')! });
    const refused = await sp.logoutMessage(Object.fromEntries(unsigned), unsigned.toString());
    assert.deepEqual([refused.kind, refused.kind === 'refused' && refused.reason], ['refused', 'unsigned']);
    const message = await sp.logoutMessage(Object.fromEntries(signed.searchParams), signed.search.slice(1));
    assert.equal(message.kind, 'request', JSON.stringify(message));
    if (message.kind === 'request') assert.equal(message.principalId, 'corp:f3a9c2e1-alice');
  });

  test('a logout message with a comment is refused before it is read', async () => {
    const xml = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0"><!-- x --></samlp:LogoutRequest>`;
    const q = new URLSearchParams({ SAMLRequest: deflateRawSync(xml).toString('base64'), SigAlg: 'x', Signature: 'y' });
    const refused = await sp.logoutMessage(Object.fromEntries(q), q.toString());
    assert.equal(refused.kind === 'refused' && refused.reason, 'xml-comment');
  });
});
