/**
 * Which headers cross the gateway. Requests: hop-by-hop headers (RFC 9110 §7.6.1) and any
 * header named in `Connection` are dropped, as are client credentials and every header a client
 * could use to claim an identity or steer MLflow. Responses: hop-by-hop headers are dropped.
 */
import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
];

/** Never forwarded from the client: credentials, identity claims, steering headers. */
const SPOOFABLE = [
  'host', // undici sets the upstream authority, which MLflow's host check accepts
  'expect', // Node already answered 100-continue; undici refuses to forward it
  'authorization',
  'cookie',
  'origin', // judged by check-origin; MLflow cannot judge it behind a gateway
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-real-ip',
  'x-remote-user',
  'x-remote-group',
  'remote-user',
  'x-auth-request-user',
  'x-auth-request-email',
  'x-auth-request-groups',
  'x-auth-request-access-token',
  'x-user',
  'x-subject',
  'x-tenant',
  'x-groups',
  'x-mlflow-workspace', // set by the tenancy stage only (issue 4)
  'x-request-id', // replaced by the gateway's own
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

const DROP_REQUEST = new Set([...HOP_BY_HOP, ...SPOOFABLE]);
const DROP_RESPONSE = new Set(HOP_BY_HOP);

/** Header names a client could disguise: underscores read as dashes by some servers (WSGI/CGI). */
const normalizedName = (name: string) => name.toLowerCase().replaceAll('_', '-');

const NONE: ReadonlySet<string> = new Set();

function connectionListed(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const value = headers.connection;
  if (!value) return NONE;
  return new Set(value.split(',').map((t) => normalizedName(t.trim())).filter(Boolean));
}

/** The normalized `consumed` names, computed once per list (the rewrite stage passes the same array every time). */
const consumedSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function consumedSet(consumed: readonly string[]): ReadonlySet<string> {
  let set = consumedSets.get(consumed);
  if (!set) consumedSets.set(consumed, (set = new Set(consumed.map(normalizedName))));
  return set;
}

/** `consumed`: more names never to forward (identity headers with operator-chosen names). */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, consumed: readonly string[] = []): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const extra = consumed.length === 0 ? NONE : consumedSet(consumed);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.includes('_')) continue; // WSGI folds `x_tenant` into `X-Tenant`: never pass such names on
    // No underscore left: the normalized name is the lower-cased one.
    const norm = name.toLowerCase();
    if (DROP_REQUEST.has(norm) || listed.has(norm) || extra.has(norm)) continue;
    out[name] = value;
  }
  return out;
}

export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connection = headers.connection;
  const listed =
    connection === undefined
      ? NONE
      : new Set(
          String(connection)
            .split(',')
            .map((t) => t.trim().toLowerCase())
            .filter(Boolean),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (DROP_RESPONSE.has(lower) || listed.has(lower)) continue;
    out[name] = value;
  }
  return out;
}
