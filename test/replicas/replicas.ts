/**
 * Shared set-up of the replica suites: a real PostgreSQL and a real Redis, the recording stub
 * as MLflow, one YAML config for every replica, and `bin/gatehouse` processes started from it
 * (plus the CLI run against the same store, as an operator would).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ROOT } from '../harness/paths.ts';
import { spawnGatehouse, type Spawned } from '../harness/gatehouse.ts';
import { startPostgres, type PostgresServer } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startStub, type StubUpstream } from '../harness/stub-upstream.ts';

export interface Cluster {
  readonly pg: PostgresServer;
  readonly redis: RedisServer;
  readonly stub: StubUpstream;
  readonly storeUrl: string;
  readonly configFile: string;
  /** Starts one replica (`bin/gatehouse serve`) with its own audit chain id; `redis: false` leaves Redis out of its config. */
  replica(id: string, env?: Record<string, string>, options?: { redis?: boolean }): Promise<Spawned>;
  /** Runs the CLI against the shared store and Redis; resolves with its exit code and output. */
  cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** `yaml` is the replica config (YAML text) on top of the store, Redis and stub settings. */
export async function startCluster(yaml: string): Promise<Cluster> {
  const pg = await startPostgres();
  const redis = await startRedis();
  const stub = await startStub();
  const storeUrl = pg.url(await pg.createDatabase('replicas'));
  const dir = mkdtempSync(join(tmpdir(), 'gh-replicas-'));
  const configFile = join(dir, 'gatehouse.yaml');
  writeFileSync(configFile, yaml);
  const shared = {
    GATEHOUSE_CONFIG: configFile,
    GATEHOUSE_STORE__DRIVER: 'postgres',
    GATEHOUSE_STORE__URL: storeUrl,
    GATEHOUSE_REDIS__URL: redis.url,
    GATEHOUSE_MLFLOW__URL: stub.url,
  };
  const cli: Cluster['cli'] = (args, stdin) =>
    new Promise((resolve) => {
      const child = execFile(join(ROOT, 'bin/gatehouse'), args, { env: childEnv(shared) }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
      else child.stdin!.end();
    });
  return {
    pg,
    redis,
    stub,
    storeUrl,
    configFile,
    replica: (id, env = {}, options = {}) => {
      const { GATEHOUSE_REDIS__URL: redisUrl, ...withoutRedis } = shared;
      return spawnGatehouse(stub.url, { ...withoutRedis, ...(options.redis !== false && { GATEHOUSE_REDIS__URL: redisUrl }), GATEHOUSE_AUDIT__REPLICA_ID: id, ...env });
    },
    cli,
    async close() {
      await stub.close();
      await redis.close();
      await pg.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
