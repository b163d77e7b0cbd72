/**
 * The optional `redis` configuration section (issue 7): with several replicas, Redis holds the
 * shared rate-limit buckets and carries change notifications between replicas. Absent: rate
 * limits stay in memory per process and replicas follow store changes by polling (1 s).
 */
import { z } from 'zod';

export const redisSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional()
      .describe('Redis URL (`redis://[:password@]host:6379/0`, `rediss://` for TLS). It may hold a password: prefer `urlFile`.'),
    urlFile: z.string().optional().describe('File holding the Redis URL (trailing newline ignored), e.g. a mounted Kubernetes Secret.'),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'letters, digits and : _ . - only')
      .default('gatehouse:')
      .describe('Prefix of every key and channel name, so several Gatehouse installations can share one Redis.'),
    connectTimeoutMs: z.number().int().min(1).default(2_000).describe('Time to open a connection to Redis (milliseconds).'),
    commandTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(1_000)
      .describe('Longest a Redis command may take before it counts as a back-end error (`rateLimits.onBackendError` decides what the request gets) (milliseconds).'),
  })
  .superRefine((r, ctx) => {
    if ((r.url === undefined) === (r.urlFile === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'set exactly one of url or urlFile' });
  })
  .optional()
  .describe('Redis, recommended with more than one replica: shared rate-limit buckets and immediate change notification between replicas. Absent: limits are per process.');

export type RedisConfig = NonNullable<z.infer<typeof redisSchema>>;
