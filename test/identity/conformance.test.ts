/**
 * One conformance suite of behaviours every identity provider must satisfy, run unchanged
 * against every provider type `buildProvider` builds (local, token, oidc, ldap, mtls,
 * trusted-proxy, dev-headers) and the browser session provider, each backed by the real thing
 * its own suite uses: the store on a temporary directory, a real OpenID provider
 * (oidc-provider), a real OpenLDAP slapd over LDAPS, an openssl PKI. Every credential goes
 * through a real HTTP (or HTTPS, client certificate requested) request to a tiny server that
 * calls `provider.authenticate(req)` and answers the AuthResult as JSON, so each provider sees
 * a real IncomingMessage and socket.
 *
 * The behaviours (one test each, for every fixture):
 *   1. no credentials at all → "not mine" without a reason;
 *   2. credentials of another kind (every other fixture's valid credentials, and schemes nobody
 *      here speaks) → "not mine";
 *   3. a valid credential → a well-formed principal of the configured provider id;
 *   4. each invalid credential → "invalid" with the expected stable reason id, never a principal
 *      (credentials of the provider's own kind that it leaves to others — an unknown user, a
 *      foreign issuer, an untrusted peer — → "not mine" with their reason);
 *  4b. with the backing service down: "unavailable" for every credential that needs the
 *      service (an unknown user is never "not mine" then), never a principal for a credential
 *      not already verified, and `ready()` not ok; back to normal once the service is back;
 *   5. no secret (password, token, cookie, shared secret, service bind password) in any result
 *      or in anything the provider logged (a trace-level pino logger writing to a buffer);
 *   6. the request is not modified (method, url, headers and raw headers identical);
 *   7. the same valid credential three times gives the same principal (caches included);
 *   8. `ready()` resolves `{ ok: true }` while the backing service is up; `close()` resolves.
 *
 * Exemptions and narrowings (by design; not skipped tests — the cases are simply not generated):
 *
 *   | provider           | behaviour | why                                                          |
 *   |--------------------|-----------|--------------------------------------------------------------|
 *   | session            | 3 narrowed| The principal keeps the id and provider of the login that    |
 *   |                    |           | made the session (`c-local:carol`), so bindings and audit    |
 *   |                    |           | name one person; only the method says `session`.             |
 *   | session            | 4 narrowed| An unknown, expired or revoked session is "not mine" (the    |
 *   |                    |           | browser goes back to the login page); only a state-changing  |
 *   |                    |           | request riding on the cookie without a same-origin Origin is |
 *   |                    |           | "invalid".                                                   |
 *   | mtls               | 4 narrowed| A failed handshake never reaches the provider; its invalid   |
 *   |                    |           | cases are a certificate from an untrusted CA (requested, not |
 *   |                    |           | required) and certificates whose SPIFFE ID is ambiguous or   |
 *   |                    |           | malformed or whose CN maps to an unusable name.              |
 *   | all but ldap       | 4b exempt | No outage to stage: mtls, trusted-proxy and dev-headers have |
 *   |                    |           | no backing service; the store's outage (local, token,        |
 *   |                    |           | session) is staged with PostgreSQL in                        |
 *   |                    |           | test/store/conformance.test.ts; an IdP outage matters only   |
 *   |                    |           | on a key refetch (test/identity/oidc-bearer.test.ts).        |
 *   | dev-headers        | 5 exempt  | No secret: X-Subject is a claim believed from anyone.        |
 *   | mtls               | 5 exempt  | The secret is a private key that never leaves the client.    |
 *   | token, mtls,       | 8 exempt  | No `ready()`/`close()`: nothing to load or release (the      |
 *   | trusted-proxy, dev,|           | store's readiness is the gateway's own check). Test 8 fails  |
 *   | session            |           | if one gains either, so this table stays true.               |
 *   | local              | 8 narrowed| `close()` only (it stops polling the users version); no      |
 *   |                    |           | `ready()`: the store's readiness is the gateway's own check. |
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { SignJWT, type JWTPayload } from 'jose';
import { hashPassword } from '../../src/identity/password.ts';
import type { AuthResult, IdentityProvider } from '../../src/identity/principal.ts';
import { buildProvider, providerSchema } from '../../src/identity/providers.ts';
import { sessionProvider } from '../../src/identity/session.ts';
import { mintToken, type TokenKind } from '../../src/identity/token-format.ts';
import { createLogger, type Logger } from '../../src/lib/logger.ts';
import { createSessionRepository, newSessionId, type SessionRepository } from '../../src/store/sessions.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createServiceAccount, insertToken, revokeToken } from '../../src/store/tokens.ts';
import { RESOURCE, startIdp, type TestIdp } from '../harness/oidc-idp.ts';
import { createPki, type Issued, type Pki } from '../harness/pki.ts';
import { PEOPLE, GROUPS, ADMINS_GROUP, SERVICE_DN, SERVICE_PASSWORD, startSlapd, USERS, type Slapd } from '../harness/slapd.ts';
import type { Principal } from '../../src/model/principal.ts';

/** What a test client sends: the parts of one HTTP request, and the secrets in it. */
interface RequestParts {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A client certificate (sent over HTTPS whatever the fixture's transport). */
  readonly cert?: Issued;
  /** Source address of the connection (the loopback network is 127.0.0.0/8). */
  readonly localAddress?: string;
  /** Values that must never appear in a result or a log line. */
  readonly secrets?: readonly string[];
}

interface Credential {
  readonly label: string;
  readonly request: RequestParts;
}
interface ValidCredential extends Credential {
  /** The principal id it must authenticate as. */
  readonly id: string;
}
interface InvalidCredential extends Credential {
  readonly reason: string;
}
interface NotMineCredential extends Credential {
  /** Of the provider's own kind but left to others (unknown user): the reason it gives. */
  readonly reason: string | undefined;
}

/** Takes the backing service down and brings it back (behaviour 4b). */
interface Outage {
  down(): Promise<void>;
  up(): Promise<void>;
  /** The reason of the "unavailable" answers meanwhile. */
  readonly reason: string;
}

interface Fixture {
  /** The configured provider id (non-default everywhere, so a hard-coded id is caught). */
  readonly name: string;
  readonly transport: 'http' | 'https-mtls';
  /** The provider id in its principals, when it is not its own (the session provider). */
  readonly principalProvider?: string;
  /** Configuration secrets that must never surface (service bind password, shared secret). */
  readonly secrets?: readonly string[];
  readonly outage?: Outage;
  build(log: Logger): Promise<IdentityProvider>;
  validCredentials(): Promise<ValidCredential[]>;
  invalidCredentials(): Promise<InvalidCredential[]>;
  ownNotMine?(): Promise<NotMineCredential[]>;
}

/** Schemes and cookies no provider here speaks: everyone must say "not mine". */
const NOBODYS: Credential[] = [
  { label: 'Negotiate', request: { headers: { authorization: 'Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCg==' } } },
  { label: 'Digest', request: { headers: { authorization: 'Digest username="carol", realm="x", nonce="abc", uri="/", response="0123"' } } },
  { label: 'opaque bearer', request: { headers: { authorization: 'Bearer opaque-0123456789abcdef' }, secrets: ['opaque-0123456789abcdef'] } },
  { label: 'unrelated cookie', request: { headers: { cookie: 'other_app=0123456789abcdef0123456789abcdef0123456' } } },
];

const ID = /^[a-z][a-z0-9-]*$/;
const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const basicParts = (user: string, password: string, extra: RequestParts = {}): RequestParts => {
  const header = basic(user, password);
  return { ...extra, headers: { authorization: header }, secrets: [password, header.slice(6)].filter((s) => s.length >= 8) };
};
const bearerParts = (token: string): RequestParts => ({ headers: { authorization: `Bearer ${token}` }, secrets: [token, ...token.split('.').filter((s) => s.length >= 16).slice(-1)] });

// ---------------------------------------------------------------------------------------------
// Shared backing services, one of each for all fixtures.

let tmp: string;
let store: Store;
let sessions: SessionRepository;
let idp: TestIdp;
let slapd: Slapd;
let pki: Pki;
let httpServer: Server;
let httpsServer: HttpsServer;
const providers = new Map<string, IdentityProvider>();
const logs = new Map<string, string[]>();

const CAROL = { name: 'carol', password: 'carol-password-0123' };
const DORA = { name: 'dora', password: 'dora-password-0123' };
const PROXY_SECRET = 'proxy-shared-secret-0123456789';
const nowS = () => Math.floor(Date.now() / 1000);

/** The result of one request, and whether the provider left the request as it found it. */
interface Answer {
  readonly result: AuthResult | { kind: 'threw'; message: string };
  readonly unchanged: boolean;
  readonly changed: string[];
}

function snapshot(req: IncomingMessage) {
  return { method: req.method, url: req.url, headers: structuredClone({ ...req.headers }), rawHeaders: [...req.rawHeaders] };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const provider = providers.get(decodeURIComponent((req.url ?? '/').slice(1)));
  if (!provider) return void res.writeHead(404).end();
  const before = snapshot(req);
  let result: Answer['result'];
  try {
    result = await provider.authenticate(req);
  } catch (err) {
    result = { kind: 'threw', message: (err as Error).message };
  }
  const after = snapshot(req);
  // Names of what changed, never values (they hold the credentials).
  const changed = [
    ...(['method', 'url', 'rawHeaders'] as const).filter((k) => !isDeepStrictEqual(before[k], after[k])),
    ...[...new Set([...Object.keys(before.headers), ...Object.keys(after.headers)])].filter((h) => !isDeepStrictEqual(before.headers[h], after.headers[h])),
  ];
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result, unchanged: isDeepStrictEqual(before, after), changed }));
}

function send(fx: Fixture, parts: RequestParts): Promise<Answer> {
  const tls = parts.cert !== undefined || fx.transport === 'https-mtls';
  const server = tls ? httpsServer : httpServer;
  const options = {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    path: `/${encodeURIComponent(fx.name)}`,
    method: parts.method ?? 'GET',
    headers: parts.headers ?? {},
    agent: false,
    ...(parts.localAddress !== undefined && { localAddress: parts.localAddress }),
    ...(tls && { ca: pki.ca.cert, servername: 'localhost', ...(parts.cert && { cert: parts.cert.cert, key: parts.cert.key }) }),
  };
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Answer) : reject(new Error(`harness: ${res.statusCode}`))));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Sends, then checks what holds for every request: behaviours 5 (no secret in the result) and 6 (request untouched). */
async function call(fx: Fixture, parts: RequestParts, label: string): Promise<AuthResult> {
  const answer = await send(fx, parts);
  assert.notEqual(answer.result.kind, 'threw', `${label}: authenticate threw ${'message' in answer.result ? answer.result.message : ''}`);
  assert.ok(answer.unchanged, `${label}: the provider modified the request (${answer.changed.join(', ')})`);
  assertNoSecrets(fx, JSON.stringify(answer.result), parts, `${label}: result`);
  return answer.result as AuthResult;
}

function assertNoSecrets(fx: Fixture, text: string, parts: RequestParts, where: string): void {
  for (const secret of [...(parts.secrets ?? []), ...(fx.secrets ?? [])]) {
    assert.ok(!text.includes(secret), `${where} contains a secret (${secret.length} characters)`);
  }
}

function assertPrincipal(fx: Fixture, result: AuthResult, label: string): Principal {
  assert.equal(result.kind, 'principal', `${label}: ${JSON.stringify(result)}`);
  const p = (result as { principal: Principal }).principal;
  const provider = fx.principalProvider ?? fx.name;
  assert.equal(p.provider, provider, `${label}: provider`);
  assert.ok(p.id.startsWith(`${provider}:`) && p.id.length > provider.length + 1, `${label}: id ${p.id} is not <${provider}>:<something>`);
  assert.ok(p.kind === 'user' || p.kind === 'service_account', `${label}: kind ${String(p.kind)}`);
  assert.ok(typeof p.name === 'string' && p.name.length > 0, `${label}: name`);
  assert.ok(typeof p.method === 'string' && p.method.length > 0, `${label}: method`);
  assert.equal(typeof p.admin, 'boolean', `${label}: admin`);
  for (const list of ['groups', 'tenants', 'roles'] as const) {
    assert.ok(Array.isArray(p[list]) && p[list].every((v) => typeof v === 'string'), `${label}: ${list} is a string array`);
  }
  assert.ok(p.email === undefined || typeof p.email === 'string', `${label}: email`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one per provider type, configured as its own suite does.

const build = (raw: Record<string, unknown>) => (log: Logger) =>
  Promise.resolve(buildProvider(providerSchema.parse(raw), { store, log, realm: 'gatehouse', now: Date.now }));

async function insertApiToken(kind: TokenKind, owner: { userId: string } | { serviceAccountId: string }, extra: { expiresAt?: Date } = {}) {
  const minted = mintToken(kind);
  await insertToken(store.db, { id: minted.id, secretHash: minted.hash, owner, now: new Date(), ...extra });
  return minted;
}

const local: Fixture = {
  name: 'c-local',
  transport: 'http',
  build: build({ type: 'local', id: 'c-local', scrypt: FAST }),
  async validCredentials(): Promise<ValidCredential[]> {
    return [{ label: 'Basic with the right password', request: basicParts(CAROL.name, CAROL.password), id: 'c-local:carol' }];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    return [
      { label: 'wrong password', request: basicParts(CAROL.name, 'wrong-password-0123'), reason: 'bad-password' },
      { label: 'disabled user, right password', request: basicParts(DORA.name, DORA.password), reason: 'user-disabled' },
      { label: 'Basic without a colon', request: { headers: { authorization: `Basic ${Buffer.from('carol-no-colon').toString('base64')}` } }, reason: 'malformed-basic' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [{ label: 'unknown user', request: basicParts('nobody', 'nobody-password-0123'), reason: 'unknown-user' }];
  },
};

let tokens: { personal: string; service: string; revoked: string; expired: string; disabledOwner: string; unknown: string };
const token: Fixture = {
  name: 'c-token',
  transport: 'http',
  build: build({ type: 'token', id: 'c-token' }),
  async validCredentials(): Promise<ValidCredential[]> {
    return [
      { label: 'personal token as Bearer', request: bearerParts(tokens.personal), id: 'c-token:carol' },
      { label: 'personal token as the Basic password', request: basicParts('anyone', tokens.personal), id: 'c-token:carol' },
      { label: 'service-account token as Bearer', request: bearerParts(tokens.service), id: 'c-token:sa:ci' },
    ];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    const last = tokens.personal.at(-1) === 'A' ? 'B' : 'A';
    return [
      { label: 'revoked', request: bearerParts(tokens.revoked), reason: 'revoked' },
      { label: 'expired', request: bearerParts(tokens.expired), reason: 'expired' },
      { label: 'owner disabled', request: bearerParts(tokens.disabledOwner), reason: 'owner-disabled' },
      { label: 'well formed but never issued', request: bearerParts(tokens.unknown), reason: 'unknown-token' },
      { label: 'checksum broken', request: bearerParts(tokens.personal.slice(0, -1) + last), reason: 'bad-checksum' },
      { label: 'truncated', request: bearerParts(tokens.personal.slice(0, 30)), reason: 'malformed-token' },
    ];
  },
};

const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: idp.issuer, aud: RESOURCE, sub: 'mallory', client_id: 'mallory', iat: nowS(), exp: nowS() + 300, ...extra });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const oidc: Fixture = {
  name: 'c-oidc',
  transport: 'http',
  build: (log) => build({ type: 'oidc', id: 'c-oidc', issuer: idp.issuer, audience: RESOURCE })(log),
  async validCredentials(): Promise<ValidCredential[]> {
    return [
      { label: 'client-credentials token', request: bearerParts(await idp.clientCredentialsToken()), id: 'c-oidc:svc' },
      { label: 'authorization-code token', request: bearerParts(await idp.authCodeToken('alice')), id: 'c-oidc:alice' },
    ];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = idp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { exp: _exp, ...withoutExp } = claims();
    return [
      { label: 'expired', request: bearerParts(await idp.sign(claims({ iat: nowS() - 3600, exp: nowS() - 120 }))), reason: 'expired' },
      { label: 'not yet valid', request: bearerParts(await idp.sign(claims({ nbf: nowS() + 600 }))), reason: 'not-yet-valid' },
      { label: 'wrong audience (a real token for urn:other)', request: bearerParts(await idp.clientCredentialsToken({ resource: 'urn:other' })), reason: 'wrong-audience' },
      { label: 'without exp', request: bearerParts(await idp.sign(withoutExp)), reason: 'missing-exp' },
      { label: 'alg none', request: bearerParts(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`), reason: 'alg-none' },
      { label: 'HS256 with the RSA public key', request: bearerParts(await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: idp.kid }).sign(Buffer.from(pem))), reason: 'alg-not-allowed' },
      { label: 'signed by another key under the IdP kid', request: bearerParts(await idp.sign(claims(), { key: stranger })), reason: 'bad-signature' },
      { label: 'unknown kid', request: bearerParts(await idp.sign(claims(), { kid: 'invented', key: stranger })), reason: 'unknown-kid' },
      { label: 'JWT-shaped garbage', request: bearerParts('aaaa.bbbb.cccc'), reason: 'malformed' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [{ label: 'a token of another issuer', request: bearerParts(await idp.sign(claims({ iss: 'https://elsewhere.example.test' }))), reason: 'wrong-issuer' }];
  },
};

const ldap: Fixture = {
  name: 'c-ldap',
  transport: 'http',
  secrets: [SERVICE_PASSWORD],
  outage: { down: () => slapd.stop(), up: () => slapd.start(), reason: 'directory-unavailable' },
  build: (log) =>
    build({
      type: 'ldap',
      id: 'c-ldap',
      url: slapd.ldapsUrl,
      tlsCaFile: slapd.caFile,
      search: { bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, base: PEOPLE },
      groups: { base: GROUPS },
      groupMappings: [{ group: ADMINS_GROUP, admin: true }],
    })(log),
  async validCredentials(): Promise<ValidCredential[]> {
    return [{ label: 'Basic with the directory password', request: basicParts('alice', USERS.alice.password), id: 'c-ldap:alice' }];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    return [
      { label: 'wrong password', request: basicParts('alice', 'wrong-password-0123'), reason: 'bad-password' },
      { label: 'empty password (an unauthenticated bind)', request: { headers: { authorization: basic('alice', '') } }, reason: 'empty-password' },
      { label: 'Basic without a colon', request: { headers: { authorization: `Basic ${Buffer.from('alice-no-colon').toString('base64')}` } }, reason: 'malformed-basic' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [{ label: 'unknown user', request: basicParts('nobody', 'nobody-password-0123'), reason: 'unknown-user' }];
  },
};

const mtls: Fixture = {
  name: 'c-mtls',
  transport: 'https-mtls',
  build: build({
    type: 'mtls',
    id: 'c-mtls',
    mappings: [
      { spiffeIdPattern: 'spiffe://example.org/ns/{ns}/sa/{sa}', name: '{ns}-{sa}', tenant: '{ns}' },
      { subjectCN: '{user}.people.example.test', name: '{user}', kind: 'user' },
    ],
  }),
  async validCredentials(): Promise<ValidCredential[]> {
    return [
      { label: 'SPIFFE X.509-SVID', request: { cert: pki.spiffe }, id: 'c-mtls:team-a-trainer' },
      { label: 'certificate with a mapped CN', request: { cert: pki.issue('carol-cn', { cn: 'carol.people.example.test' }) }, id: 'c-mtls:carol' },
    ];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    return [
      { label: 'certificate from an untrusted CA', request: { cert: pki.foreign }, reason: 'untrusted-certificate' },
      { label: 'two SPIFFE IDs', request: { cert: pki.issue('two-ids', { cn: 'x', uris: ['spiffe://example.org/ns/a/sa/b', 'spiffe://example.org/ns/c/sa/d'] }) }, reason: 'ambiguous-spiffe-id' },
      { label: 'malformed SPIFFE ID', request: { cert: pki.issue('bad-id', { cn: 'x', uris: ['spiffe://EXAMPLE.org/ns/a/sa/b'] }) }, reason: 'malformed-spiffe-id' },
      { label: 'CN that maps to an unusable name', request: { cert: pki.issue('bad-name', { cn: '-bad.people.example.test' }) }, reason: 'unmappable-certificate' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [{ label: 'trusted certificate no rule maps', request: { cert: pki.other }, reason: 'unmapped-certificate' }];
  },
};

const proxyHeaders = (user: string, secret = PROXY_SECRET) => ({
  'x-forwarded-user': user,
  'x-forwarded-email': `${user}@example.test`,
  'x-forwarded-groups': 'team-a, team-b',
  'x-gatehouse-proxy-secret': secret,
});
const trustedProxy: Fixture = {
  name: 'c-proxy',
  transport: 'http',
  secrets: [PROXY_SECRET],
  build: build({ type: 'trusted-proxy', id: 'c-proxy', trustedPeers: ['127.0.0.1'], sharedSecret: { value: PROXY_SECRET } }),
  async validCredentials(): Promise<ValidCredential[]> {
    return [{ label: 'identity headers from the trusted peer', request: { headers: proxyHeaders('erin') }, id: 'c-proxy:erin' }];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    const { 'x-gatehouse-proxy-secret': _, ...withoutSecret } = proxyHeaders('erin');
    return [
      { label: 'wrong shared secret', request: { headers: proxyHeaders('erin', 'not-the-secret-0123456789'), secrets: ['not-the-secret-0123456789'] }, reason: 'bad-proxy-secret' },
      { label: 'no shared secret', request: { headers: withoutSecret }, reason: 'bad-proxy-secret' },
      { label: 'malformed user header', request: { headers: proxyHeaders('erin smith') }, reason: 'malformed-identity-header' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [{ label: 'identity headers from an untrusted peer', request: { headers: proxyHeaders('erin'), localAddress: '127.0.0.2' }, reason: undefined }];
  },
};

const devHeaders: Fixture = {
  name: 'c-dev',
  transport: 'http',
  build: build({ type: 'dev-headers', id: 'c-dev' }),
  async validCredentials(): Promise<ValidCredential[]> {
    return [
      { label: 'X-Subject alone', request: { headers: { 'x-subject': 'frank' } }, id: 'c-dev:frank' },
      { label: 'X-Subject, X-Tenant and X-Groups', request: { headers: { 'x-subject': 'frank', 'x-tenant': 'team-a', 'x-groups': 'g1,g2' } }, id: 'c-dev:frank' },
    ];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    return [
      { label: 'malformed X-Subject', request: { headers: { 'x-subject': 'frank smith' } }, reason: 'malformed-x-subject' },
      { label: 'malformed X-Tenant', request: { headers: { 'x-subject': 'frank', 'x-tenant': 'team a' } }, reason: 'malformed-x-tenant' },
    ];
  },
};

let sessionIds: { live: string; revoked: string };
const cookie = (id: string): RequestParts => ({ headers: { cookie: `theme=dark; gatehouse_session=${id}` }, secrets: [id] });
const sameOrigin = () => `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
const session: Fixture = {
  name: 'session',
  transport: 'http',
  principalProvider: 'c-local',
  build: async (log) => sessionProvider({ sessions, publicOrigins: [], log }),
  async validCredentials(): Promise<ValidCredential[]> {
    const c = cookie(sessionIds.live);
    return [
      { label: 'session cookie on a GET', request: c, id: 'c-local:carol' },
      { label: 'session cookie on a same-origin POST', request: { ...c, method: 'POST', headers: { ...c.headers, origin: sameOrigin() } }, id: 'c-local:carol' },
    ];
  },
  async invalidCredentials(): Promise<InvalidCredential[]> {
    const c = cookie(sessionIds.live);
    return [
      { label: 'POST riding on the cookie without Origin', request: { ...c, method: 'POST' }, reason: 'session-no-origin' },
      { label: 'POST riding on the cookie from a foreign Origin', request: { ...c, method: 'POST', headers: { ...c.headers, origin: 'https://evil.example.test' } }, reason: 'session-no-origin' },
    ];
  },
  async ownNotMine(): Promise<NotMineCredential[]> {
    return [
      { label: 'unknown session id', request: cookie(newSessionId()), reason: undefined },
      { label: 'revoked session', request: cookie(sessionIds.revoked), reason: undefined },
      { label: 'malformed session id', request: cookie('not-a-session'), reason: undefined },
    ];
  },
};

const FIXTURES: readonly Fixture[] = [local, token, oidc, ldap, mtls, trustedProxy, devHeaders, session];

// ---------------------------------------------------------------------------------------------

/** Every fixture's credentials, made once the backing services are up. */
const cases = new Map<string, { valid: ValidCredential[]; invalid: InvalidCredential[]; notMine: NotMineCredential[] }>();

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gh-idconf-'));
  pki = createPki();
  [idp, slapd, store] = await Promise.all([startIdp(), startSlapd(), openStore({ driver: 'sqlite', path: join(tmp, 'store.db'), dataDir: tmp })]);
  sessions = createSessionRepository(store.db, { idleMs: 3_600_000, absoluteMs: 7_200_000, pendingMs: 600_000 }, Date.now);

  const carol = await store.createUser({ username: CAROL.name, passwordHash: await hashPassword(CAROL.password, FAST), admin: false });
  const dora = await store.createUser({ username: DORA.name, passwordHash: await hashPassword(DORA.password, FAST), admin: false });
  const ci = await createServiceAccount(store.db, { name: 'ci', now: new Date() });
  const revoked = await insertApiToken('personal', { userId: carol.id });
  await revokeToken(store.db, revoked.id, new Date());
  const disabledOwner = await insertApiToken('personal', { userId: dora.id });
  await store.setDisabled(DORA.name, true);
  tokens = {
    personal: (await insertApiToken('personal', { userId: carol.id })).token,
    service: (await insertApiToken('service', { serviceAccountId: ci.id })).token,
    revoked: revoked.token,
    expired: (await insertApiToken('personal', { userId: carol.id }, { expiresAt: new Date(Date.now() - 60_000) })).token,
    disabledOwner: disabledOwner.token,
    unknown: mintToken('personal').token,
  };

  httpServer = createHttpServer((req, res) => void handle(req, res));
  httpsServer = createHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => void handle(req, res));
  await Promise.all([httpServer, httpsServer].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));

  for (const fx of FIXTURES) {
    const lines: string[] = [];
    logs.set(fx.name, lines);
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    providers.set(fx.name, await fx.build(createLogger('trace', sink)));
  }

  // The session holds the principal a real password login through the local provider produced.
  const login = await send(local, basicParts(CAROL.name, CAROL.password));
  assert.equal(login.result.kind, 'principal');
  const principal = (login.result as { principal: Principal }).principal;
  sessionIds = { live: await sessions.create('user', { csrf: 'x' }, principal), revoked: await sessions.create('user', { csrf: 'y' }, principal) };
  await sessions.delete(sessionIds.revoked);

  for (const fx of FIXTURES) {
    cases.set(fx.name, { valid: await fx.validCredentials(), invalid: await fx.invalidCredentials(), notMine: (await fx.ownNotMine?.()) ?? [] });
  }
});

after(async () => {
  await Promise.all([httpServer, httpsServer].map((s) => s && new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
  await Promise.all([idp?.close(), slapd?.close(), store?.close()]);
  pki?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const casesOf = (fx: Fixture) => cases.get(fx.name)!;
/** Every other fixture's valid credentials, and the schemes nobody speaks. */
const foreignCredentials = (fx: Fixture): Credential[] => [
  ...FIXTURES.filter((o) => o !== fx).flatMap((o) => casesOf(o).valid.map((c) => ({ label: `${o.name}: ${c.label}`, request: c.request }))),
  ...NOBODYS,
];
/** Everything sent to a fixture, for the checks that hold for every request. */
const everyRequest = (fx: Fixture): Credential[] => [
  { label: 'no credentials', request: {} },
  ...casesOf(fx).valid,
  ...casesOf(fx).invalid,
  ...casesOf(fx).notMine,
  ...foreignCredentials(fx),
];

for (const fx of FIXTURES) {
  describe(`identity provider conformance: ${fx.name}`, () => {
    const provider = () => providers.get(fx.name)!;

    test('1. no credentials at all: not mine, without a reason', async () => {
      for (const method of ['GET', 'POST']) {
        assert.deepEqual(await call(fx, { method }, `no credentials (${method})`), { kind: 'not-mine' });
      }
    });

    test('2. credentials of another kind: not mine', async () => {
      for (const c of foreignCredentials(fx)) {
        const r = await call(fx, c.request, c.label);
        assert.equal(r.kind, 'not-mine', `${c.label}: ${JSON.stringify(r)}`);
        assert.ok(r.kind !== 'not-mine' || r.reason === undefined || ID.test(r.reason), `${c.label}: reason id`);
      }
    });

    test('3. a valid credential: a well-formed principal of this provider', async () => {
      assert.ok(casesOf(fx).valid.length > 0);
      for (const c of casesOf(fx).valid) {
        const p = assertPrincipal(fx, await call(fx, c.request, c.label), c.label);
        assert.equal(p.id, c.id, c.label);
      }
    });

    test('4. an invalid credential: invalid with a stable reason id, never a principal', async () => {
      for (const c of casesOf(fx).invalid) {
        const r = await call(fx, c.request, c.label);
        assert.ok(ID.test(c.reason));
        assert.deepEqual(r, { kind: 'invalid', reason: c.reason }, c.label);
      }
      // Credentials of its own kind that it leaves to the next provider.
      for (const c of casesOf(fx).notMine) {
        assert.deepEqual(await call(fx, c.request, c.label), c.reason === undefined ? { kind: 'not-mine' } : { kind: 'not-mine', reason: c.reason }, c.label);
      }
    });

    const outage = fx.outage;
    if (outage) {
      test('4b. backing service down: unavailable, never a principal, never "unknown user"; ready() not ok until it is back', async () => {
        const p = provider();
        const unavailable = { kind: 'unavailable', reason: outage.reason };
        const logged = logs.get(fx.name)!.length;
        await outage.down();
        try {
          let answered = 0;
          // Credentials refused without asking the service (malformed) keep their verdict.
          for (const c of casesOf(fx).invalid) {
            const r = await call(fx, c.request, c.label);
            assert.ok(isDeepStrictEqual(r, unavailable) || isDeepStrictEqual(r, { kind: 'invalid', reason: c.reason }), `${c.label}: ${JSON.stringify(r)}`);
            if (r.kind === 'unavailable') answered++;
          }
          assert.ok(answered > 0, 'some invalid credential needs the service');
          // Not knowing a user is not the same as not being able to ask.
          for (const c of casesOf(fx).notMine) assert.deepEqual(await call(fx, c.request, c.label), unavailable, c.label);
          if (p.ready) assert.equal((await p.ready()).ok, false);
          // Operators see why requests fail (behaviour 5 then checks those lines for secrets).
          assert.ok(logs.get(fx.name)!.length > logged, 'the outage is logged');
        } finally {
          await outage.up();
        }
        if (p.ready) assert.deepEqual(await p.ready(), { ok: true });
        for (const c of casesOf(fx).invalid) assert.deepEqual(await call(fx, c.request, c.label), { kind: 'invalid', reason: c.reason }, `${c.label}, after recovery`);
      });
    }

    test('5. no secret in any result nor in anything the provider logged', async () => {
      const all = everyRequest(fx);
      // `call` checks each result; the log is checked once everything has been sent.
      for (const c of all) await call(fx, c.request, c.label);
      await new Promise((r) => setImmediate(r));
      const log = logs.get(fx.name)!.join('');
      for (const c of all) assertNoSecrets(fx, log, c.request, `the log (after "${c.label}")`);
    });

    test('6. the request it is given is left unmodified', async () => {
      // `call` compares method, url, headers and raw headers before and after authenticate.
      for (const c of everyRequest(fx)) {
        const answer = await send(fx, c.request);
        assert.deepEqual([answer.unchanged, answer.changed], [true, []], c.label);
      }
    });

    test('7. the same valid credential gives the same principal every time', async () => {
      for (const c of casesOf(fx).valid) {
        const [a, b, d] = [await call(fx, c.request, c.label), await call(fx, c.request, c.label), await call(fx, c.request, c.label)];
        assert.equal(a.kind, 'principal', c.label);
        assert.deepEqual(b, a, c.label);
        assert.deepEqual(d, a, c.label);
      }
    });

    test('8. ready() is ok while the backing service is up; close() resolves', async () => {
      const p = provider();
      if (p.ready) assert.deepEqual(await p.ready(), { ok: true });
      if (p.close) await p.close();
      // Behaviour 8 applies only to the providers that implement either (exemptions in the header).
      assert.equal(p.ready !== undefined || p.close !== undefined, ['c-oidc', 'c-ldap', 'c-local'].includes(fx.name));
    });
  });
}
