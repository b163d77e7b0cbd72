/**
 * A rolling restart under load: two replicas (shared PostgreSQL and Redis) behind a small
 * round-robin TCP load balancer that, like a Kubernetes Service fed by readiness probes, only
 * picks backends whose `/readyz` answered 200 at its last poll (every 100 ms) and tries the
 * next backend when a connect is refused. A keep-alive client drives steady load through it
 * while each replica in turn gets SIGTERM (with a slow streamed artifact download in flight on
 * it) and is started again. Zero failed client requests; each stream arrives byte for byte;
 * each drained replica exits 0; the audit chains stay verifiable across the restarts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { openStore } from '../../src/store/store.ts';
import { auditRepository } from '../../src/store/audit.ts';
import { verifyStore } from '../../src/audit/verify.ts';
import { ADMIN_AUTH, type Spawned } from '../harness/gatehouse.ts';
import { jsonOk } from '../harness/stub-upstream.ts';
import { startCluster, type Cluster } from './replicas.ts';

const YAML = `
log: { level: info, requests: false }
server: { drainDelayMs: 600, drainTimeoutMs: 20000 }
audit: { sinks: [ { type: store } ] }
auth:
  providers: [ { type: local, scrypt: { cost: 1024, blockSize: 8, parallelization: 1 } } ]
rateLimits:
  principal: { reads: { rate: 100000, burst: 100000 }, artifacts: { rate: 100000, burst: 100000 } }
  tenant: { reads: { rate: 100000, burst: 100000 }, artifacts: { rate: 100000, burst: 100000 } }
`;
const SLOW = '/api/2.0/mlflow-artifacts/artifacts/1/slow/artifacts/model.bin';
const CHUNKS = 30;
const CHUNK = 64 * 1024;
/** The slow artifact: deterministic bytes, so the client can check them. */
const chunk = (i: number) => Buffer.alloc(CHUNK, i % 251);
const EXPECTED = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) h.update(chunk(i));
  return h.digest('hex');
})();

/** Round-robin TCP balancer over the backends whose /readyz was 200 at the last poll. */
function startBalancer(initial: string[]): { server: Server; port: () => number; backends: string[]; ready: Set<string>; close(): Promise<void> } {
  const backends = [...initial];
  const ready = new Set<string>();
  const errors = new Map<string, number>();
  let next = 0;
  const sockets = new Set<Socket>();
  // Like a readiness probe: an answer other than 200 (draining) takes the backend out at once;
  // probe errors (a busy 2-core machine starting a replica) only after 3 in a row.
  const poll = setInterval(() => {
    for (const url of [...backends]) {
      fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
        .then((r) => {
          errors.set(url, 0);
          if (r.status === 200) ready.add(url);
          else ready.delete(url);
          return r.arrayBuffer();
        })
        .catch(() => {
          const n = (errors.get(url) ?? 0) + 1;
          errors.set(url, n);
          if (n >= 3) ready.delete(url);
        });
    }
  }, 100);
  const pick = (tried: Set<string>) => {
    const live = backends.filter((b) => ready.has(b) && !tried.has(b));
    return live.length === 0 ? undefined : live[next++ % live.length];
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tried = new Set<string>();
    const attempt = () => {
      const url = pick(tried);
      if (url === undefined) return void client.destroy();
      tried.add(url);
      const { hostname, port } = new URL(url);
      const upstream = connect(Number(port), hostname);
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        // Refused at connect time: the backend is gone; try the next (nothing was sent yet).
        if (!upstream.readyState.includes('open') && err.code === 'ECONNREFUSED') return attempt();
        client.destroy();
      });
      upstream.once('connect', () => {
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt();
  });
  server.listen(0, '127.0.0.1');
  return {
    server,
    port: () => (server.address() as { port: number }).port,
    backends,
    ready,
    async close() {
      clearInterval(poll);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** GET through `agent`; resolves with the status and the body's length and SHA-256. */
function get(port: number, path: string, agent: Agent): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: ADMIN_AUTH } }, (res) => {
      const h = createHash('sha256');
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        h.update(d);
        bytes += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: h.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

let cluster: Cluster;
const replicas: Spawned[] = [];

before(async () => {
  cluster = await startCluster(YAML);
  cluster.stub.handler = (req, res, r) => {
    if (!r.url.startsWith(SLOW)) return jsonOk(req, res, r);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': CHUNKS * CHUNK });
    let i = 0;
    const timer = setInterval(() => {
      res.write(chunk(i++));
      if (i === CHUNKS) {
        clearInterval(timer);
        res.end();
      }
    }, 100);
    res.on('close', () => clearInterval(timer));
  };
  replicas.push(...(await Promise.all([cluster.replica('replica-a'), cluster.replica('replica-b')])));
});
after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await cluster?.close();
});

test('rolling restart of two replicas under keep-alive load: zero failed requests, streams complete byte for byte, exit 0', async () => {
  const lb = startBalancer(replicas.map((r) => r.url));
  const waitReady = async (url: string) => {
    const deadline = Date.now() + 10_000;
    while (!lb.ready.has(url)) {
      if (Date.now() > deadline) assert.fail(`${url} never became ready at the balancer`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await Promise.all(replicas.map((r) => waitReady(r.url)));

  const agent = new Agent({ keepAlive: true, maxSockets: 4, scheduling: 'fifo' });
  let running = true;
  let ok = 0;
  let phase = 'start';
  const failures: string[] = [];
  const worker = async () => {
    while (running) {
      try {
        const res = await get(lb.port(), '/api/2.0/mlflow/experiments/get?experiment_id=1', agent);
        if (res.status === 200) ok++;
        else failures.push(`status ${res.status} (${phase})`);
      } catch (err) {
        failures.push(`${(err as Error).message} (${phase})`);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);

  try {
    for (const index of [0, 1]) {
      const old = replicas[index]!;
      const id = index === 0 ? 'replica-a' : 'replica-b';
      const okBefore = ok;
      // A slow artifact download in flight on the replica about to be stopped (its own connection).
      const streamAgent = new Agent({ keepAlive: true });
      const stream = get(Number(new URL(old.url).port), SLOW, streamAgent);
      await new Promise((r) => setTimeout(r, 300));
      phase = `${id} stopping`;
      const stopped = old.stop();
      if (index === 0) {
        // Within server.drainDelayMs: still answering, readiness says draining, responses close their connection.
        await new Promise((r) => setTimeout(r, 150));
        const ready = await fetch(`${old.url}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(await ready.json(), { status: 'draining', checks: {} });
        assert.equal(ready.headers.get('connection'), 'close');
      }
      const [code, streamed] = await Promise.all([stopped, stream]);
      streamAgent.destroy();
      assert.equal(code, 0, `${id} drained and exited 0:\n${old.output.join('').slice(-2000)}`);
      assert.deepEqual(streamed, { status: 200, bytes: CHUNKS * CHUNK, sha256: EXPECTED }, 'the stream in flight at SIGTERM completed byte for byte');
      assert.ok(ok > okBefore, 'load kept flowing through the other replica');
      phase = `${id} exited`;
      const fresh = await cluster.replica(id);
      replicas[index] = fresh;
      lb.backends.splice(lb.backends.indexOf(old.url), 1, fresh.url);
      await waitReady(fresh.url);
      phase = `${id} restarted`;
    }
    const okAfter = ok;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(ok > okAfter, 'both new replicas serve');
  } finally {
    running = false;
    await Promise.all(workers);
    agent.destroy();
    await lb.close();
  }
  assert.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
  assert.ok(ok > 100, `steady load: ${ok} requests`);

  const store = await openStore({ driver: 'postgres', url: cluster.storeUrl, migrate: 'never', dataDir: '/nonexistent' } as Parameters<typeof openStore>[0]);
  try {
    const repo = auditRepository(store.db);
    assert.deepEqual(await repo.chains(), ['replica-a', 'replica-b']);
    const report = await verifyStore(repo);
    assert.deepEqual(report.problems, [], 'a restarted replica continues its chain');
  } finally {
    await store.close();
  }
});
