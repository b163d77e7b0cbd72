/**
 * A trusted authentication proxy in front of Gatehouse (oauth2-proxy, Pomerium, an ingress with
 * external auth): the proxy has authenticated the user and says who it is in request headers.
 * Those headers are believed only when the TCP peer is one of `trustedPeers` (exact addresses or
 * CIDR blocks) and, if configured, the request carries the shared secret header; from any other
 * peer they are ignored ("not mine"). Either way they are never forwarded to MLflow: they are not
 * on the allow-list of src/upstream/headers.ts, and `consumedHeaders` keeps them off it whatever
 * their names.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { Secret } from '../lib/logger.ts';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { asLocalName, assertsLocalNamesSchema } from './local-names.ts';

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name');

/** An exact IPv4/IPv6 address, or `address/prefix`. */
function parsePeer(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = entry.split('/');
  const v = isIP(address ?? '');
  if (v === 0 || extra !== undefined) return undefined;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address: address!, family };
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (v === 4 ? 32 : 128)) return undefined;
  return { address: address!, prefix, family };
}

export const trustedProxySchema = z
  .strictObject({
    type: z.literal('trusted-proxy'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('proxy').describe('Provider id, used in principal ids (`<id>:<user>`), audit and metrics.'),
    trustedPeers: z
      .array(z.string().refine((s) => parsePeer(s) !== undefined, 'must be an IP address or a CIDR block (10.0.0.0/8, fd00::/8)'))
      .min(1)
      .describe('TCP peer addresses (exact IPs or CIDR blocks) of the authentication proxy. Identity headers from any other peer are ignored.'),
    headers: z
      .strictObject({
        user: headerName.default('X-Forwarded-User').describe('Header with the user name (required for the proxy to claim a request).'),
        email: headerName.default('X-Forwarded-Email').describe('Header with the e-mail address (optional).'),
        groups: headerName.default('X-Forwarded-Groups').describe('Header with comma-separated groups (optional).'),
      })
      .prefault({})
      .describe('Names of the identity headers the proxy sets (oauth2-proxy defaults).'),
    sharedSecret: z
      .strictObject({
        header: headerName.default('X-Gatehouse-Proxy-Secret').describe('Header that carries the secret.'),
        value: z.string().min(16).optional().describe('The secret (prefer `valueFile`).'),
        valueFile: z.string().optional().describe('File holding the secret (trailing newline ignored).'),
      })
      .refine((s) => (s.value === undefined) !== (s.valueFile === undefined), 'set exactly one of value and valueFile')
      .optional()
      .describe('A secret the proxy adds to every request, compared in constant time; none by default.'),
    admin: z
      .strictObject({ groups: z.array(z.string()).default([]).describe('Groups that make the principal a platform administrator.') })
      .prefault({})
      .describe('Platform administrators by proxy-asserted group.'),
    assertsLocalNames: assertsLocalNamesSchema,
  })
  .describe('Identity from a trusted authentication proxy (oauth2-proxy or similar), only from configured peer addresses.');

export type TrustedProxyConfig = z.infer<typeof trustedProxySchema>;

const USER = /^[^\s,;:/\\]{1,256}$/;
const digest = (s: string) => createHash('sha256').update(s).digest();

export function trustedProxyProvider(config: TrustedProxyConfig): IdentityProvider {
  const peers = new BlockList();
  for (const entry of config.trustedPeers) {
    const p = parsePeer(entry)!;
    if (p.prefix === undefined) peers.addAddress(p.address, p.family);
    else peers.addSubnet(p.address, p.prefix, p.family);
  }
  const h = { user: config.headers.user.toLowerCase(), email: config.headers.email.toLowerCase(), groups: config.headers.groups.toLowerCase() };
  const s = config.sharedSecret;
  const secretHeader = s?.header.toLowerCase();
  const secret = s && new Secret(s.value ?? readFileSync(s.valueFile!, 'utf8').replace(/\r?\n$/, ''));
  // Compared as SHA-256 digests: equal lengths, so timingSafeEqual reveals neither content nor length.
  const secretDigest = secret && digest(secret.reveal());
  const adminGroups = new Set(config.admin.groups);

  return {
    id: config.id,
    consumedHeaders: [h.user, h.email, h.groups, ...(secretHeader ? [secretHeader] : [])],
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const peer = req.socket.remoteAddress;
      if (peer === undefined || !peers.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4')) return { kind: 'not-mine' };
      const user = req.headers[h.user];
      if (user === undefined) return { kind: 'not-mine' };
      if (secretDigest) {
        const sent = req.headers[secretHeader!];
        if (typeof sent !== 'string' || !timingSafeEqual(digest(sent), secretDigest)) return { kind: 'invalid', reason: 'bad-proxy-secret' };
      }
      // Node joins a repeated header with ", ": a repeated or odd user header is refused, never guessed at.
      if (typeof user !== 'string' || !USER.test(user)) return { kind: 'invalid', reason: 'malformed-identity-header' };
      const email = req.headers[h.email];
      const groupsHeader = req.headers[h.groups];
      const groups = typeof groupsHeader === 'string' ? [...new Set(groupsHeader.split(',').map((g) => g.trim()).filter(Boolean))] : [];
      const localName = config.assertsLocalNames ? asLocalName(user) : undefined;
      return {
        kind: 'principal',
        principal: {
          id: `${config.id}:${user}`,
          kind: 'user',
          name: user,
          ...(localName !== undefined && { localName }),
          ...(typeof email === 'string' && email !== '' && { email }),
          groups,
          tenants: [],
          roles: [],
          admin: groups.some((g) => adminGroups.has(g)),
          method: 'trusted-proxy',
          provider: config.id,
        },
      };
    },
  };
}
