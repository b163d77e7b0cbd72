/**
 * The fast upstream of the proxy benchmark (bench/proxy.ts): a tiny node:http server that answers
 * every request with a fixed ~300-byte MLflow-like JSON (what `experiments/get` returns), says it
 * has workspaces (`/api/3.0/mlflow/server-info`), and answers `runs/get` with an experiment id so
 * the gateway's resolver can anchor runs (bench/footprint.ts). Run as its own process so it can
 * be pinned to a core: `node bench/stub-server.ts [port]`; prints `{"port":N}` when listening.
 * A request with `x-bench-delay-ms: N` is answered after N milliseconds (an upstream as slow as
 * MLflow, for the slow-upstream cell).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const experiment = (id: string) =>
  JSON.stringify({
    experiment: {
      experiment_id: id,
      name: `bench-experiment-${id}`,
      artifact_location: `mlflow-artifacts:/workspaces/t01/${id}`,
      lifecycle_stage: 'active',
      last_update_time: 1735689600000,
      creation_time: 1735689600000,
      tags: [{ key: 'mlflow.note.content', value: 'benchmark stub' }],
    },
  });
const SERVER_INFO = JSON.stringify({ workspaces_enabled: true });
const HEALTH = 'OK';

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  let body: string;
  let type = 'application/json';
  if (url.startsWith('/api/2.0/mlflow/experiments/get')) {
    body = experiment(/experiment_id=([^&]+)/.exec(url)?.[1] ?? '0');
  } else if (url.startsWith('/api/2.0/mlflow/runs/get')) {
    // Runs spread over 1,000 experiments: the resolver caches run → experiment and experiment → name.
    const runId = /run_id=([^&]+)/.exec(url)?.[1] ?? '0';
    const exp = String(Number.parseInt(runId.replace(/\D/g, '') || '0', 10) % 1000);
    body = JSON.stringify({ run: { info: { run_id: runId, experiment_id: exp, status: 'FINISHED', lifecycle_stage: 'active' }, data: {} } });
  } else if (url === '/api/3.0/mlflow/server-info') {
    body = SERVER_INFO;
  } else if (url === '/health') {
    body = HEALTH;
    type = 'text/plain';
  } else {
    body = experiment('0');
  }
  // Drain any request body before answering (uploads are not part of this benchmark).
  req.resume();
  const answer = () => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const delay = Number(req.headers['x-bench-delay-ms'] ?? 0);
  if (delay > 0) setTimeout(answer, delay);
  else answer();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
