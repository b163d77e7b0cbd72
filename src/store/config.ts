/**
 * The `store` configuration section: the embedded SQLite file, or PostgreSQL for several
 * replicas (src/store/postgres.ts). One flat section so `GATEHOUSE_STORE__URL_FILE` and the
 * Helm chart's `store: {driver: postgres, urlFile: ...}` stay short.
 */
import { z } from 'zod';

const POSTGRES_ONLY = ['url', 'urlFile', 'host', 'port', 'database', 'user', 'passwordFile', 'ssl', 'pool', 'statementTimeoutMs'] as const;

export const storeSchema = z
  .strictObject({
    driver: z
      .enum(['sqlite', 'postgres'])
      .default('sqlite')
      .describe('Store back end. `sqlite`: one file under the data directory (one gateway process). `postgres`: a PostgreSQL database shared by every replica.'),
    path: z.string().optional().describe('SQLite file; default `<dataDir>/gatehouse.db`.'),
    migrate: z
      .enum(['on-start', 'never'])
      .default('on-start')
      .describe(
        '`on-start`: apply pending schema migrations before serving (on PostgreSQL under an advisory lock, so replicas starting together migrate once). `never`: run `gatehouse migrate` yourself; a gateway whose store schema is behind refuses to start.',
      ),
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('PostgreSQL connection URL (`postgres://user:password@host:5432/db?sslmode=verify-full`). It holds a password: prefer `urlFile`.'),
    urlFile: z.string().optional().describe('File holding the PostgreSQL connection URL (trailing newline ignored), e.g. a mounted Kubernetes Secret.'),
    host: z.string().optional().describe('PostgreSQL host, or a directory holding its Unix socket. With neither `url`, `urlFile` nor `host`, the standard PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE variables apply.'),
    port: z.number().int().min(1).max(65535).optional().describe('PostgreSQL port (default 5432).'),
    database: z.string().optional().describe('PostgreSQL database.'),
    user: z.string().optional().describe('PostgreSQL user.'),
    passwordFile: z.string().optional().describe('File holding the PostgreSQL password (trailing newline ignored).'),
    ssl: z
      .strictObject({
        mode: z
          .enum(['disable', 'require', 'verify-full'])
          .default('verify-full')
          .describe('`disable`: plain TCP. `require`: TLS without checking the certificate (not safe beyond a trusted network). `verify-full`: TLS, the certificate must chain to `caFile` (or the system CAs) and name the host.'),
        caFile: z.string().optional().describe('PEM CA bundle for `verify-full` (e.g. the cloud provider\'s RDS/Cloud SQL CA); default the system CAs.'),
      })
      .optional()
      .describe('TLS to PostgreSQL. Absent: as the URL says (`sslmode=`), else no TLS.'),
    pool: z
      .strictObject({
        max: z.number().int().min(1).default(10).describe('Connections per gateway process. Replicas × max must stay below the server\'s max_connections.'),
        idleTimeoutMs: z.number().int().min(0).default(30_000).describe('An idle connection is closed after this long (milliseconds).'),
        connectionTimeoutMs: z.number().int().min(1).default(5_000).describe('Time to open a connection, or wait for a free one, before the request fails with 503 (milliseconds).'),
      })
      .prefault({})
      .describe('The PostgreSQL connection pool of each gateway process.'),
    statementTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Longest a store query may run before it fails (the request gets 503); 0 disables it. Migrations are not limited (milliseconds).'),
  })
  .superRefine((s, ctx) => {
    if (s.url !== undefined && s.urlFile !== undefined) ctx.addIssue({ code: 'custom', path: ['urlFile'], message: 'set url or urlFile, not both' });
    if (s.driver === 'postgres' && s.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'path is the SQLite file; it has no meaning with driver postgres' });
    if (s.driver === 'sqlite') {
      for (const key of POSTGRES_ONLY) {
        // pool and statementTimeoutMs have defaults; only options the operator wrote are a mistake.
        if (key === 'pool' || key === 'statementTimeoutMs') continue;
        if (s[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is a PostgreSQL option; set driver: postgres` });
      }
    }
  })
  .prefault({});

export type StoreConfig = z.infer<typeof storeSchema>;
