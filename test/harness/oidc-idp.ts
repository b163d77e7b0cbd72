/**
 * A real OpenID provider for tests: `oidc-provider` in this process on a free loopback port,
 * issuing RFC 9068 JWT access tokens (audience `urn:mlflow`, or any `resource` asked for) by
 * client credentials and by authorization code + PKCE (its dev login and consent pages are
 * driven with plain fetch, no browser). Counts discovery and JWKS fetches, rotates its signing
 * keys on demand (a new Provider with the new key set behind the same listener), and can sign
 * crafted tokens with its current key for negative tests. For `opaqueResources` it issues opaque
 * access tokens instead, with RFC 7662 introspection (counted; an outage on demand) and RFC 7009
 * revocation.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import Provider, { errors, type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';

export const RESOURCE = 'urn:mlflow';
/** RFC 8693 token exchange, offered by the `exchange` client for subject tokens of SUBJECT_ISSUER. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The issuer of subject tokens (a stand-in for a Kubernetes API server's service-account tokens). */
export const SUBJECT_ISSUER = 'https://kubernetes.default.svc.test';
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const RESOURCE_SCOPES = 'mlflow:role:viewer mlflow:role:contributor mlflow:role:admin';

export interface Account {
  readonly email: string;
  readonly groups: readonly string[];
  readonly tenant: string;
  /** `preferred_username`; default the subject (the account's key). */
  readonly username?: string;
}

export const ACCOUNTS: Readonly<Record<string, Account>> = {
  alice: { email: 'alice@example.test', groups: ['mlflow-admins', 'team-a'], tenant: 'team-a' },
  bob: { email: 'bob@example.test', groups: ['team-b'], tenant: 'team-b' },
  /** Another subject whose chosen display name is `alice` (IdPs where users pick their username). */
  mallory: { email: 'mallory@example.test', groups: ['team-b'], tenant: 'team-b', username: 'alice' },
};

export const CLIENTS = {
  svc: { id: 'svc', secret: 'svc-secret-0123456789' },
  web: { id: 'web', secret: 'web-secret-0123456789' },
  /** The gateway's login page (src/web/login.ts); registered by `allowBrowserClient`. */
  browser: { id: 'browser', secret: 'browser-secret-0123456789' },
  /** May exchange SUBJECT_ISSUER tokens for access tokens (RFC 8693). */
  exchange: { id: 'exchange', secret: 'exchange-secret-0123456789' },
} as const;

export interface IdpOptions {
  /** Lifetime of access tokens in seconds (default 600). */
  readonly accessTokenTTL?: number;
  /** More clients (e.g. a `private_key_jwt` client with its `jwks`). */
  readonly clients?: readonly ClientMetadata[];
  /** Resources whose access tokens are opaque (introspect them at `/token/introspection`) instead of JWTs. */
  readonly opaqueResources?: readonly string[];
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface TestIdp {
  readonly issuer: string;
  /** Requests to the JWKS endpoint and the discovery document, and access tokens issued, since start. */
  readonly fetches: { jwks: number; discovery: number; tokens: number; introspections: number };
  readonly kid: string;
  readonly publicKey: KeyObject;
  clientCredentialsToken(options?: { scope?: string; resource?: string }): Promise<string>;
  authCodeToken(login: string, options?: { scope?: string }): Promise<string>;
  /** Signs arbitrary claims with the IdP's current key (RS256, its kid) unless told otherwise. */
  sign(payload: JWTPayload, header?: { alg?: string; kid?: string; key?: KeyObject | Uint8Array }): Promise<string>;
  /** Publishes a new signing key next to the old ones and signs with it from now on. */
  rotateKeys(): Promise<void>;
  /** Stops publishing every key but the current signing key. */
  retireOldKeys(): Promise<void>;
  /** Registers the `browser` client with the gateway's callback and post-logout URIs (known once it listens). */
  allowBrowserClient(redirectUri: string, postLogoutRedirectUri: string): Promise<void>;
  /** Unregisters a client: its credentials are refused from now on (a revoked client). */
  disableClient(clientId: string): Promise<void>;
  /** RFC 7009: revokes an (opaque) access token issued to the `svc` client. */
  revoke(token: string): Promise<void>;
  /** Makes the introspection endpoint answer 503 (an outage) until set back to false. */
  introspectionDown: boolean;
  /** Signs a SUBJECT_ISSUER token (what a pod's projected service-account token file holds). */
  signSubjectToken(payload: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

let serial = 0;
function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: `key-${++serial}-${randomBytes(3).toString('hex')}`, privateKey, publicKey };
}

interface BrowserClient {
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
}

interface BuildOptions {
  readonly ttl: number;
  readonly clients: readonly ClientMetadata[];
  readonly disabled: ReadonlySet<string>;
  readonly subjectKey: KeyObject;
  readonly opaque: ReadonlySet<string>;
}

function buildProvider(issuer: string, keys: readonly SigningKey[], browser: BrowserClient | undefined, opts: BuildOptions): Provider {
  const signing = keys[0]!;
  const resourceServer = (resource: string) => ({
    scope: RESOURCE_SCOPES,
    audience: resource,
    accessTokenTTL: opts.ttl,
    accessTokenFormat: opts.opaque.has(resource) ? ('opaque' as const) : ('jwt' as const),
    jwt: { sign: { alg: 'RS256' as const, kid: signing.kid } },
  });
  const clients: ClientMetadata[] = [
    { client_id: CLIENTS.svc.id, client_secret: CLIENTS.svc.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    { client_id: CLIENTS.exchange.id, client_secret: CLIENTS.exchange.secret, grant_types: [TOKEN_EXCHANGE], redirect_uris: [], response_types: [] },
    ...opts.clients,
    { client_id: CLIENTS.web.id, client_secret: CLIENTS.web.secret, grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], response_types: ['code'] },
    ...(browser
      ? [{ client_id: CLIENTS.browser.id, client_secret: CLIENTS.browser.secret, grant_types: ['authorization_code'], redirect_uris: [browser.redirectUri], post_logout_redirect_uris: [browser.postLogoutRedirectUri], response_types: ['code' as const] }]
      : []),
  ];
  const provider = new Provider(issuer, {
    jwks: { keys: keys.map((k) => ({ ...k.privateKey.export({ format: 'jwk' }), kid: k.kid, alg: 'RS256', use: 'sig' })) as never },
    clients: clients.filter((c) => !opts.disabled.has(c.client_id)),
    pkce: { required: () => true },
    ttl: { AccessToken: opts.ttl, ClientCredentials: opts.ttl, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      // RFC 7662 / RFC 7009 for opaque tokens: any authenticated client may introspect (the
      // gateway's), only the client a token was issued to may revoke it.
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => resourceServer(resource),
      },
    },
    claims: { openid: ['sub'], email: ['email'], profile: ['preferred_username'] },
    findAccount: async (_ctx, sub) => {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email: account.email, preferred_username: account.username ?? sub }) };
    },
    extraTokenClaims: async (_ctx, token) => {
      const account = 'accountId' in token && typeof token.accountId === 'string' ? ACCOUNTS[token.accountId] : undefined;
      if (!account) return { tenant: 'team-svc' };
      return { email: account.email, preferred_username: account.username ?? (token as { accountId: string }).accountId, groups: [...account.groups], tenant: account.tenant };
    },
  });
  // RFC 8693 §2: a valid SUBJECT_ISSUER token is exchanged for a client-credentials style
  // access token for RESOURCE (oidc-provider has no built-in token exchange grant).
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params.subject_token_type !== 'urn:ietf:params:oauth:token-type:jwt') throw new errors.InvalidRequest('unsupported subject_token_type');
      try {
        await jwtVerify(params.subject_token ?? '', opts.subjectKey, { issuer: SUBJECT_ISSUER, audience: issuer });
      } catch {
        throw new errors.InvalidGrant('subject token rejected');
      }
      const requested = new Set((params.scope ?? '').split(' '));
      const token = new ctx.oidc.provider.ClientCredentials({ client: ctx.oidc.client!, scope: RESOURCE_SCOPES.split(' ').filter((s) => requested.has(s)).join(' ') || undefined });
      const server = resourceServer(RESOURCE);
      (token as unknown as { resourceServer: unknown }).resourceServer = { ...server, identifier: () => RESOURCE, scopes: new Set(server.scope.split(' ')) };
      const value = await token.save();
      ctx.body = { access_token: value, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
    },
    ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'audience'],
  );
  return provider;
}

export async function startIdp(options: IdpOptions = {}): Promise<TestIdp> {
  const fetches = { jwks: 0, discovery: 0, tokens: 0, introspections: 0 };
  const opaque = new Set(options.opaqueResources ?? []);
  let introspectionDown = false;
  const disabled = new Set<string>();
  const subjectKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const build = (): Provider =>
    buildProvider(issuer, keys, browser, { ttl: options.accessTokenTTL ?? 600, clients: options.clients ?? [], disabled, subjectKey: subjectKey.publicKey, opaque });
  let keys: SigningKey[] = [newKey()];
  let browser: BrowserClient | undefined;
  let provider: Provider | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/jwks') fetches.jwks++;
    if (path === '/.well-known/openid-configuration') fetches.discovery++;
    if (path === '/token') res.once('finish', () => res.statusCode === 200 && fetches.tokens++);
    if (path === '/token/introspection') {
      fetches.introspections++;
      if (introspectionDown) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
        return;
      }
    }
    void provider!.callback()(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = build();
  const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

  async function token(form: Record<string, string>, client: { id: string; secret: string }): Promise<string> {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${res.status} ${body.error}: ${body.error_description}`);
    return body.access_token;
  }

  return {
    issuer,
    fetches,
    get kid() {
      return keys[0]!.kid;
    },
    get publicKey() {
      return keys[0]!.publicKey;
    },
    clientCredentialsToken(options = {}) {
      return token({ grant_type: 'client_credentials', scope: options.scope ?? 'mlflow:role:viewer', resource: options.resource ?? RESOURCE }, CLIENTS.svc);
    },
    async authCodeToken(login, options = {}) {
      const jar = new Map<string, string>();
      const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
        const headers = new Headers(init.headers);
        if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
        const res = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = pair!.indexOf('=');
          jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
        return res;
      };
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(8).toString('hex');
      const auth = new URL('/auth', issuer);
      auth.search = new URLSearchParams({
        client_id: CLIENTS.web.id,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: options.scope ?? 'openid email profile mlflow:role:viewer',
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }).toString();
      let location = auth.toString();
      for (let hop = 0; hop < 20; hop++) {
        if (location.startsWith(REDIRECT_URI)) {
          const cb = new URL(location);
          if (cb.searchParams.get('state') !== state) throw new Error('state mismatch');
          const code = cb.searchParams.get('code');
          if (!code) throw new Error(`no code: ${location}`);
          return token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: RESOURCE }, CLIENTS.web);
        }
        let res = await go(location);
        if (res.status === 200 && /\/interaction\//.test(location)) {
          const page = await res.text();
          const prompt: Record<string, string> = page.includes('name="login"') ? { prompt: 'login', login, password: 'any' } : { prompt: 'consent' };
          res = await go(location, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(prompt) });
        }
        const next = res.headers.get('location');
        if (!next) throw new Error(`authorization flow stuck at ${location}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        await res.body?.cancel();
        location = new URL(next, issuer).toString();
      }
      throw new Error('authorization flow: too many redirects');
    },
    async sign(payload, header = {}) {
      const alg = header.alg ?? 'RS256';
      return new SignJWT(payload)
        .setProtectedHeader({ alg, kid: header.kid ?? keys[0]!.kid, typ: 'at+jwt' })
        .sign(header.key ?? keys[0]!.privateKey);
    },
    async rotateKeys() {
      keys = [newKey(), ...keys];
      provider = build();
    },
    async allowBrowserClient(redirectUri, postLogoutRedirectUri) {
      browser = { redirectUri, postLogoutRedirectUri };
      provider = build();
    },
    async retireOldKeys() {
      keys = [keys[0]!];
      provider = build();
    },
    async disableClient(clientId) {
      disabled.add(clientId);
      provider = build();
    },
    async revoke(value) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: basic(CLIENTS.svc), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: value, token_type_hint: 'access_token' }),
      });
      if (!res.ok) throw new Error(`revocation endpoint: ${res.status} ${await res.text()}`);
    },
    get introspectionDown() {
      return introspectionDown;
    },
    set introspectionDown(down: boolean) {
      introspectionDown = down;
    },
    signSubjectToken(payload) {
      return new SignJWT({ iss: SUBJECT_ISSUER, aud: issuer, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, ...payload })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
        .sign(subjectKey.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
