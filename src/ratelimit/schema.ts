/**
 * The `rateLimits` configuration section: token buckets per principal, per tenant and per
 * client address, each with a rate and burst per operation class, plus the stricter buckets
 * that failed authentication attempts draw from (brute-force protection). Defaults are
 * generous: they stop a runaway client, not normal work.
 */
import { z } from 'zod';

/** Operation classes, from the route row (src/ratelimit/classes.ts). */
export const OPERATION_CLASSES = ['reads', 'writes', 'artifacts', 'searches'] as const;
export type OperationClass = (typeof OPERATION_CLASSES)[number];

const bucket = (rate: number, burst: number, what: string) =>
  z
    .strictObject({
      rate: z.number().positive().default(rate).describe('Tokens added per second (fractions allowed: 0.1 is one every 10 s).'),
      burst: z.number().int().min(1).default(burst).describe('Bucket size: requests allowed at once after a quiet period.'),
    })
    .prefault({})
    .describe(what);

type Defaults = Record<OperationClass, readonly [number, number]>;

const perClass = (d: Defaults, who: string) =>
  z
    .strictObject({
      reads: bucket(d.reads[0], d.reads[1], `GET calls and other reads, ${who}.`),
      writes: bucket(d.writes[0], d.writes[1], `Creates, updates, deletes and logging calls, ${who}.`),
      artifacts: bucket(d.artifacts[0], d.artifacts[1], `Streamed calls (artifact uploads and downloads, OTLP), ${who}.`),
      searches: bucket(d.searches[0], d.searches[1], `Searches and lists, ${who}.`),
    })
    .prefault({});

export const rateLimitsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Apply the limits below. Over a limit, a request gets 429 GATEHOUSE_RATE_LIMITED with Retry-After (seconds).'),
    principal: perClass({ reads: [100, 1000], writes: [100, 1000], artifacts: [50, 500], searches: [50, 500] }, 'per authenticated principal').describe(
      'Buckets per authenticated principal (user or service account), checked once the tenant is known.',
    ),
    tenant: perClass({ reads: [500, 5000], writes: [500, 5000], artifacts: [250, 2500], searches: [250, 2500] }, 'per tenant').describe(
      'Buckets per tenant, shared by all its principals, checked after the principal\'s own.',
    ),
    address: perClass({ reads: [20, 200], writes: [20, 200], artifacts: [10, 100], searches: [10, 100] }, 'per client address').describe(
      'Buckets per client address for requests that end without an authenticated principal (no or bad credentials, public routes; not those the gateway fails itself with a 5xx, e.g. store down). Authenticated requests do not draw from them (many users behind one NAT are not limited together), but an address whose bucket is empty is refused before authentication, credentials or not.',
    ),
    failedAuth: z
      .strictObject({
        address: bucket(0.1, 30, 'Failed password attempts (HTTP Basic and the login form) per client address.'),
        username: bucket(1 / 60, 10, 'Failed password attempts per user name (HTTP Basic and the login form), from any address.'),
      })
      .prefault({})
      .describe(
        'Brute-force protection for passwords. Every failed password attempt takes a token; an empty bucket locks password sign-in from the address or for the user name out (429 before any password is checked) until a token is back. Bad tokens are not counted (they draw from the address buckets). Defaults: 30 failures per address, then one more every 10 s; 10 per user name, then one per minute.',
      ),
    onBackendError: z
      .enum(['deny', 'allow-with-warning'])
      .default('deny')
      .describe(
        'What a request gets when the shared limit back end (`redis`) cannot answer. `deny`: 503 GATEHOUSE_RATE_LIMIT_UNAVAILABLE (fail closed; nothing passes unlimited). `allow-with-warning`: the request passes unlimited and a warning is logged (at most one line per 10 s).',
      ),
    maxKeys: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe('Most buckets held in memory per limit (idle full buckets are dropped first; beyond this the least recently used).'),
  })
  .prefault({});

export type RateLimitsConfig = z.infer<typeof rateLimitsSchema>;
