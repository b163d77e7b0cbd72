/**
 * mTLS workload identity: the principal comes from the client certificate the TLS handshake
 * verified against `server.tls.caFile` — from its SPIFFE ID (the `spiffe://` URI SAN of an
 * X.509-SVID) or its subject CN — through ordered mapping rules; the first rule whose pattern
 * matches decides. No client certificate (or a plain-HTTP listener): "not mine".
 *
 * Pattern syntax (anchored: the whole SPIFFE ID or CN must match):
 *   `{name}`  captures one or more characters other than `/` (a SPIFFE path segment);
 *   `*`       the same, without capturing;
 *   `**`      one or more characters of any kind, `/` included (the rest of a path);
 *   anything else is literal. When a match is ambiguous, earlier placeholders take the most.
 * Templates (`name`, `tenant`, `groups`) use `{name}` captures, plus `{trustDomain}` in SPIFFE
 * rules and `{cn}` (the whole CN) in CN rules; an undefined variable is a configuration error.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { z } from 'zod';
import type { AuthResult, IdentityProvider } from './principal.ts';
import { asLocalName, assertsLocalNamesSchema } from './local-names.ts';
import type { Principal } from '../model/principal.ts';

/** Reason ids for certificates that do not yield a principal (audit-ready). */
export type MtlsReason =
  | 'untrusted-certificate' | 'certificate-expired' | 'unmapped-certificate' | 'unmappable-certificate'
  | 'ambiguous-spiffe-id' | 'malformed-spiffe-id';

/** Same rules as policy names (src/policy/config.ts): a mapped name can be bound. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;
/** MLflow workspace names, as tenants (src/policy/config.ts). */
const TENANT = /^(?!.*--)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])$/;
/** SPIFFE ID (spiffe.io/docs/latest/spiffe-specs/spiffe-id/): lowercase trust domain, non-dot path segments. */
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/;
const VAR = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

const ruleSchema = z
  .strictObject({
    spiffeIdPattern: z.string().min(1).optional().describe('Pattern for the SPIFFE ID, e.g. `spiffe://example.org/ns/{ns}/sa/{sa}`.'),
    subjectCN: z.string().min(1).optional().describe('Pattern for the subject common name, e.g. `{cn}` or `{app}.svc.example.org`.'),
    kind: z.enum(['service_account', 'user']).default('service_account').describe('Principal kind.'),
    name: z.string().min(1).optional().describe('Principal name template, e.g. `{ns}-{sa}`; default `{cn}` in CN rules, required in SPIFFE rules.'),
    tenant: z.string().min(1).optional().describe('Tenant membership template, e.g. `{ns}`.'),
    groups: z.array(z.string().min(1)).default([]).describe('Group name templates.'),
    roles: z.array(z.string().min(1)).default([]).describe('Role names asserted for the principal (in its tenant, or everywhere without one).'),
    admin: z.boolean().default(false).describe('Platform administrator.'),
  })
  .superRefine((r, ctx) => {
    if ((r.spiffeIdPattern === undefined) === (r.subjectCN === undefined)) {
      return ctx.addIssue({ code: 'custom', message: 'exactly one of spiffeIdPattern, subjectCN' });
    }
    if (r.spiffeIdPattern !== undefined && r.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'required in SPIFFE rules' });
    const pattern = compilePattern(r.spiffeIdPattern ?? r.subjectCN!);
    if (typeof pattern === 'string') {
      return ctx.addIssue({ code: 'custom', path: [r.spiffeIdPattern !== undefined ? 'spiffeIdPattern' : 'subjectCN'], message: pattern });
    }
    const known = new Set([...pattern.vars, r.spiffeIdPattern !== undefined ? 'trustDomain' : 'cn']);
    const templates: [PropertyKey[], string | undefined][] = [[['name'], r.name], [['tenant'], r.tenant], ...r.groups.map((g, i): [PropertyKey[], string] => [['groups', i], g])];
    for (const [path, t] of templates) {
      for (const [, v] of t?.matchAll(VAR) ?? []) {
        if (!known.has(v!)) ctx.addIssue({ code: 'custom', path, message: `{${v}} is not captured by the pattern (known: ${[...known].map((k) => `{${k}}`).join(', ')})` });
      }
    }
  });

export const mtlsSchema = z
  .strictObject({
    type: z.literal('mtls'),
    id: z.string().regex(/^[a-z][a-z0-9-]*$/).default('mtls').describe('Provider id, used in principal ids (`<id>:<name>`), audit and metrics.'),
    assertsLocalNames: assertsLocalNamesSchema,
    mappings: z
      .array(ruleSchema)
      .min(1)
      .describe('Ordered rules from a verified client certificate to a principal; the first rule whose pattern matches decides. See docs/identity.md for the pattern syntax.'),
  })
  .describe('mTLS workload identity from the client certificate the TLS handshake verified (needs `server.tls` with `clientCertificates` request or require).');

export type MtlsConfig = z.infer<typeof mtlsSchema>;

interface Pattern {
  readonly regex: RegExp;
  readonly vars: readonly string[];
}

/** Compiles a pattern (syntax in the header comment); a string is the problem. */
function compilePattern(pattern: string): Pattern | string {
  const vars: string[] = [];
  let source = '';
  for (let i = 0; i < pattern.length; ) {
    const rest = pattern.slice(i);
    const v = /^\{([A-Za-z][A-Za-z0-9_]*)\}/.exec(rest);
    if (v) {
      if (vars.includes(v[1]!)) return `{${v[1]}} appears twice`;
      vars.push(v[1]!);
      source += '([^/]+)';
      i += v[0].length;
    } else if (rest.startsWith('**')) {
      source += '(?:.+)';
      i += 2;
    } else if (rest.startsWith('*')) {
      source += '(?:[^/]+)';
      i += 1;
    } else if (rest[0] === '{' || rest[0] === '}') {
      return `stray "${rest[0]}" (placeholders are {name} with letters, digits and _)`;
    } else {
      source += rest[0]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 1;
    }
  }
  return { regex: new RegExp(`^${source}$`, 's'), vars };
}

type Rule = z.infer<typeof ruleSchema> & { readonly pattern: Pattern; readonly on: 'spiffe' | 'cn' };

const render = (template: string, vars: Readonly<Record<string, string>>) => template.replace(VAR, (_, v: string) => vars[v] ?? '');

/** The verified peer certificate of a TLS request, or undefined (plain HTTP, none sent). */
function peerCertificate(req: IncomingMessage): { cert: PeerCertificate; authorized: boolean } | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  return { cert, authorized: socket.authorized };
}

/**
 * RFC 8705 §3.1 `x5t#S256` of the certificate the client presented on this connection
 * (base64url SHA-256 of its DER), or undefined without one. The handshake proved the client
 * holds the certificate's key, so the binding holds whether or not the certificate chains to
 * `caFile` (RFC 8705 §2.2, self-signed client certificates).
 */
export function peerCertificateThumbprint(req: IncomingMessage): string | undefined {
  const peer = peerCertificate(req);
  return peer && createHash('sha256').update(peer.cert.raw).digest('base64url');
}

/** `URI:` entries of a subjectAltName string as Node formats it (values with `,` or quotes are JSON-quoted). */
function uriSans(san: string | undefined): string[] {
  const uris: string[] = [];
  for (const m of (san ?? '').matchAll(/(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    if (m[1] !== 'URI') continue;
    try {
      uris.push(m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!);
    } catch {
      uris.push(m[2]!);
    }
  }
  return uris;
}

export interface MtlsDeps {
  readonly now: () => number;
}

export function mtlsProvider(config: MtlsConfig, deps: MtlsDeps): IdentityProvider {
  const rules: Rule[] = config.mappings.map((r) => ({
    ...r,
    pattern: compilePattern(r.spiffeIdPattern ?? r.subjectCN!) as Pattern,
    on: r.spiffeIdPattern !== undefined ? 'spiffe' : 'cn',
  }));
  const invalid = (reason: MtlsReason): AuthResult => ({ kind: 'invalid', reason });

  return {
    id: config.id,
    async authenticate(req: IncomingMessage): Promise<AuthResult> {
      const peer = peerCertificate(req);
      if (!peer) return { kind: 'not-mine' };
      if (!peer.authorized) return invalid('untrusted-certificate');
      const { cert } = peer;
      // The handshake checked the validity period; a keep-alive connection can outlive it.
      if (Date.parse(cert.valid_to) <= deps.now()) return invalid('certificate-expired');
      const spiffe = uriSans(cert.subjectaltname).filter((u) => /^spiffe:/i.test(u));
      if (spiffe.length > 1) return invalid('ambiguous-spiffe-id');
      const spiffeMatch = spiffe.length === 1 ? SPIFFE_ID.exec(spiffe[0]!) : undefined;
      if (spiffeMatch === null) return invalid('malformed-spiffe-id');
      const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined; // several CNs: none
      for (const rule of rules) {
        const subject = rule.on === 'spiffe' ? spiffeMatch?.[0] : cn;
        if (subject === undefined) continue;
        const m = rule.pattern.regex.exec(subject);
        if (!m) continue;
        const vars: Record<string, string> = rule.on === 'spiffe' ? { trustDomain: spiffeMatch![1]! } : { cn: cn! };
        rule.pattern.vars.forEach((v, i) => (vars[v] = m[i + 1]!));
        const principal = toPrincipal(rule, vars, config.id, config.assertsLocalNames);
        return principal ? { kind: 'principal', principal } : invalid('unmappable-certificate');
      }
      return { kind: 'not-mine', reason: 'unmapped-certificate' };
    },
  };
}

function toPrincipal(rule: Rule, vars: Readonly<Record<string, string>>, provider: string, assertsLocalNames: boolean): Principal | undefined {
  const name = render(rule.name ?? '{cn}', vars);
  const tenant = rule.tenant !== undefined ? render(rule.tenant, vars) : undefined;
  const groups = rule.groups.map((g) => render(g, vars));
  if (!NAME.test(name) || (tenant !== undefined && !TENANT.test(tenant)) || !groups.every((g) => NAME.test(g))) return undefined;
  const localName = assertsLocalNames ? asLocalName(name) : undefined;
  return {
    id: `${provider}:${name}`,
    kind: rule.kind,
    name,
    ...(localName !== undefined && { localName }),
    groups,
    tenants: tenant !== undefined ? [tenant] : [],
    roles: [...rule.roles],
    admin: rule.admin,
    method: 'mtls',
    provider,
  };
}
