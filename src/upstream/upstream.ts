/**
 * One MLflow server behind the gateway: a keep-alive undici Pool, and a streaming forward.
 * Bodies stream both ways (a buffered JSON body is sent as is); nothing is held in memory
 * beyond the socket buffers, so multi-GiB artifacts pass with flat memory.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '../errors.ts';
import type { PoolStats } from '../metrics/definitions.ts';
import { downstreamResponseHeaders } from './headers.ts';

export interface UpstreamOptions {
  readonly url: string;
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export interface ForwardRequest {
  readonly method: string;
  /** Raw path and query, exactly as the client sent them (already canonical). */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** A buffered body, or the client request to stream from, or nothing. */
  readonly body: Buffer | IncomingMessage | null;
}

export interface BufferedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

export interface Upstream {
  readonly url: string;
  /** Forwards and streams the answer into `res`. Resolves with the upstream status when the body is done. */
  forward(request: ForwardRequest, res: ServerResponse, onHeaders?: (status: number) => void): Promise<number>;
  /** Forwards and buffers the answer (at most `maxBytes`), for responses that must be filtered. */
  forwardBuffered(request: ForwardRequest, maxBytes: number): Promise<BufferedResponse>;
  /** A plain request for the gateway's own use (health checks, parent lookups). */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** The keep-alive pool's counters right now (the `gatehouse_upstream_pool_*` gauges). */
  stats(): PoolStats;
  close(): Promise<void>;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const pool = new Pool(options.url, {
    connections: options.connections,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: 4_000,
  });
  return {
    url: options.url,
    async forward(request, res, onHeaders) {
      const abort = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) abort.abort();
      };
      res.once('close', onClose);
      let status = 0;
      try {
        await pool.stream(
          {
            path: request.path,
            method: request.method as 'GET',
            headers: request.headers,
            body: request.body,
            signal: abort.signal,
          },
          ({ statusCode, headers }) => {
            status = statusCode;
            onHeaders?.(statusCode);
            res.writeHead(statusCode, downstreamResponseHeaders(headers as Record<string, string | string[]>));
            return res;
          },
        );
        return status;
      } catch (err) {
        throw mapUpstreamError(err, status !== 0);
      } finally {
        res.off('close', onClose);
      }
    },
    async forwardBuffered(request, maxBytes) {
      try {
        const r = await pool.request({ path: request.path, method: request.method as 'GET', headers: request.headers, body: request.body });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of r.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) {
            r.body.destroy();
            throw new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', `filtered response over ${maxBytes} bytes`);
          }
          chunks.push(chunk);
        }
        return { status: r.statusCode, headers: downstreamResponseHeaders(r.headers as Record<string, string | string[]>), body: Buffer.concat(chunks) };
      } catch (err) {
        throw mapUpstreamError(err, false);
      }
    },
    async get(path, headers = {}) {
      try {
        const r = await pool.request({ path, method: 'GET', headers });
        return { status: r.statusCode, body: await r.body.text() };
      } catch (err) {
        throw mapUpstreamError(err, false);
      }
    },
    stats() {
      const { connected, free, pending, running, size } = pool.stats;
      return { connected, free, pending, running, size };
    },
    async close() {
      await pool.close();
    },
  };
}

/** undici's failures → the registry: unreachable 503, too slow 504, broken 502. */
export function mapUpstreamError(err: unknown, started: boolean): GatehouseError {
  const code = (err as { code?: string }).code ?? '';
  const detail = `${code || (err as Error).name}: ${(err as Error).message}`;
  if (err instanceof GatehouseError) return err;
  if (err instanceof undiciErrors.RequestAbortedError || code === 'UND_ERR_ABORTED') {
    return new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', `aborted (client gone): ${detail}`);
  }
  if (!started && (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH')) {
    return new GatehouseError('GATEHOUSE_UPSTREAM_UNAVAILABLE', detail);
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatehouseError('GATEHOUSE_UPSTREAM_TIMEOUT', detail);
  }
  return new GatehouseError('GATEHOUSE_UPSTREAM_BAD_RESPONSE', detail);
}
