/**
 * A real OpenID provider for tests: `oidc-provider` in this process on a free loopback port,
 * issuing RFC 9068 JWT access tokens (audience `urn:mlflow`, or any `resource` asked for) by
 * client credentials and by authorization code + PKCE (its dev login and consent pages are
 * driven with plain fetch, no browser). Counts discovery and JWKS fetches, rotates its signing
 * keys on demand (a new Provider with the new key set behind the same listener), and can sign
 * crafted tokens with its current key for negative tests.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

export const RESOURCE = 'urn:mlflow';
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const RESOURCE_SCOPES = 'mlflow:role:viewer mlflow:role:contributor mlflow:role:admin';

export interface Account {
  readonly email: string;
  readonly groups: readonly string[];
  readonly tenant: string;
}

export const ACCOUNTS: Readonly<Record<string, Account>> = {
  alice: { email: 'alice@example.test', groups: ['mlflow-admins', 'team-a'], tenant: 'team-a' },
  bob: { email: 'bob@example.test', groups: ['team-b'], tenant: 'team-b' },
};

export const CLIENTS = {
  svc: { id: 'svc', secret: 'svc-secret-0123456789' },
  web: { id: 'web', secret: 'web-secret-0123456789' },
} as const;

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface TestIdp {
  readonly issuer: string;
  /** Requests to the JWKS endpoint and the discovery document since start. */
  readonly fetches: { jwks: number; discovery: number };
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
  close(): Promise<void>;
}

let serial = 0;
function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: `key-${++serial}-${randomBytes(3).toString('hex')}`, privateKey, publicKey };
}

function buildProvider(issuer: string, keys: readonly SigningKey[]): Provider {
  const signing = keys[0]!;
  return new Provider(issuer, {
    jwks: { keys: keys.map((k) => ({ ...k.privateKey.export({ format: 'jwk' }), kid: k.kid, alg: 'RS256', use: 'sig' })) as never },
    clients: [
      { client_id: CLIENTS.svc.id, client_secret: CLIENTS.svc.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: CLIENTS.web.id, client_secret: CLIENTS.web.secret, grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], response_types: ['code'] },
    ],
    pkce: { required: () => true },
    ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: RESOURCE_SCOPES,
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256', kid: signing.kid } },
        }),
      },
    },
    claims: { openid: ['sub'], email: ['email'], profile: ['preferred_username'] },
    findAccount: async (_ctx, sub) => {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email: account.email, preferred_username: sub }) };
    },
    extraTokenClaims: async (_ctx, token) => {
      const account = 'accountId' in token && typeof token.accountId === 'string' ? ACCOUNTS[token.accountId] : undefined;
      if (!account) return { tenant: 'team-svc' };
      return { email: account.email, preferred_username: (token as { accountId: string }).accountId, groups: [...account.groups], tenant: account.tenant };
    },
  });
}

export async function startIdp(): Promise<TestIdp> {
  const fetches = { jwks: 0, discovery: 0 };
  let keys: SigningKey[] = [newKey()];
  let provider: Provider | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/jwks') fetches.jwks++;
    if (path === '/.well-known/openid-configuration') fetches.discovery++;
    void provider!.callback()(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = buildProvider(issuer, keys);
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
      provider = buildProvider(issuer, keys);
    },
    async retireOldKeys() {
      keys = [keys[0]!];
      provider = buildProvider(issuer, keys);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
