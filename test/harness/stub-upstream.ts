/**
 * A recording stand-in for MLflow in feature suites: records every request that reaches it
 * (method, target, headers, body length and hash) so tests can assert what was — and was
 * not — forwarded. A unit-level fake: end-to-end suites use the real MLflow.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bytes: number;
  readonly sha256: string;
  /** The body as text when it is at most `keepBodyBytes` (startStub's option, 64 KiB by default); '' otherwise. */
  readonly body: string;
  /** The request body was cut before it was complete (client or gateway went away). */
  readonly aborted: boolean;
}

export type StubHandler = (req: IncomingMessage, res: ServerResponse, recorded: Recorded) => void;

export interface StubUpstream {
  readonly url: string;
  readonly requests: Recorded[];
  /** Request targets as they arrive, before their bodies are read. */
  readonly arrived: string[];
  handler: StubHandler;
  close(): Promise<void>;
}

export const jsonOk: StubHandler = (_req, res, r) => {
  const body = JSON.stringify({ ok: true, path: r.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** `jsonOk`, plus a server-info saying MLflow runs with workspaces (workspace tenancy). */
export const withWorkspaces: StubHandler = (req, res, r) => {
  if (req.url === '/api/3.0/mlflow/server-info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ workspaces_enabled: true }));
  }
  return jsonOk(req, res, r);
};

export async function startStub(handler: StubHandler = jsonOk, options: { readonly keepBodyBytes?: number } = {}): Promise<StubUpstream> {
  const keep = options.keepBodyBytes ?? 65536;
  const requests: Recorded[] = [];
  const arrived: string[] = [];
  const stub: { handler: StubHandler } = { handler };
  const server: Server = createServer(async (req, res) => {
    arrived.push(req.url!);
    const hash = createHash('sha256');
    let bytes = 0;
    const head: Buffer[] = [];
    let aborted = false;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes <= keep) head.push(chunk);
      }
    } catch {
      aborted = true;
    }
    aborted ||= !req.complete;
    const recorded: Recorded = {
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      bytes,
      sha256: hash.digest('hex'),
      body: bytes <= keep ? Buffer.concat(head).toString('utf8') : '',
      aborted,
    };
    requests.push(recorded);
    if (aborted) return;
    stub.handler(req, res, recorded);
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    requests,
    arrived,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
