/**
 * One MLflow server behind the gateway: a keep-alive undici Pool, and a streaming forward.
 * Bodies stream both ways (a buffered JSON body is sent as is); nothing is held in memory
 * beyond the socket buffers, so multi-GiB artifacts pass with flat memory.
 */
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import type { PoolStats } from '../metrics/definitions.ts';
import { downstreamResponseHeaders, type HeaderDropSink } from './headers.ts';

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
  /** MLflow's caching headers may stand (a public route); otherwise the answer is `no-store` (src/upstream/headers.ts). */
  readonly cacheable?: boolean;
  /** Told what was done to MLflow's answer (the request context). */
  readonly sink?: HeaderDropSink;
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
    forward(request, res, onHeaders) {
      return new Promise((resolve, reject) => {
        pool.dispatch(
          { path: request.path, method: request.method, headers: request.headers, body: request.body },
          new StreamingAnswer(res, request, onHeaders, resolve, (err, started) => reject(mapUpstreamError(err, started))).watch(request.body),
        );
      });
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
        return { status: r.statusCode, headers: downstreamResponseHeaders(r.headers as Record<string, string | string[]>, { cacheable: request.cacheable ?? false }, request.sink), body: Buffer.concat(chunks) };
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

/**
 * The dispatch handler of a streamed answer: MLflow's status and headers, then its body chunks
 * straight into the client's response, pausing MLflow's socket while the client's is full.
 * (undici's `Pool.stream` does the same through an AsyncResource, a stream-lifecycle tracker and
 * a Promise per request, and writes the zero-length body chunks its parser reports after each
 * socket read — each an empty write syscall: docs/performance.md, 2026-11-23 03:30.) Settles once:
 * with MLflow's status when the response has been handed to the client's socket, or with the
 * error and whether the answer had started.
 */
class StreamingAnswer implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #settled = false;
  readonly #res: ServerResponse;
  readonly #request: ForwardRequest;
  readonly #onHeaders: ((status: number) => void) | undefined;
  readonly #resolve: (status: number) => void;
  readonly #reject: (err: unknown, started: boolean) => void;

  constructor(res: ServerResponse, request: ForwardRequest, onHeaders: ((status: number) => void) | undefined, resolve: (status: number) => void, reject: (err: unknown, started: boolean) => void) {
    this.#res = res;
    this.#request = request;
    this.#onHeaders = onHeaders;
    this.#resolve = resolve;
    this.#reject = reject;
    res.once('close', this.#onClose);
  }

  /** A streamed request body that fails (the client cut its upload) ends the exchange, queued or not. */
  watch(body: ForwardRequest['body']): this {
    if (body !== null && !Buffer.isBuffer(body)) {
      body.on('error', (err) => {
        this.#controller?.abort(err);
        this.#fail(err);
      });
    }
    return this;
  }

  /** The client went away before the answer was complete: stop MLflow's side too. */
  #onClose = (): void => {
    if (this.#res.writableFinished) return;
    const gone = new undiciErrors.RequestAbortedError('client closed the connection');
    this.#controller?.abort(gone);
    this.#fail(gone);
  };

  #resume = (): void => this.#controller?.resume();

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#res.off('close', this.#onClose);
    this.#reject(err, this.#status !== 0);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#settled) controller.abort(new undiciErrors.RequestAbortedError('the exchange ended before MLflow was asked'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#settled) return; // 1xx: informational, the answer follows
    this.#status = statusCode;
    this.#onHeaders?.(statusCode);
    this.#res.writeHead(statusCode, downstreamResponseHeaders(headers, { cacheable: this.#request.cacheable ?? false }, this.#request.sink));
    this.#res.on('drain', this.#resume);
    if (this.#res.writableNeedDrain) controller.pause();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (chunk.length === 0 || this.#settled) return;
    if (!this.#res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#res.end(() => {
      if (this.#settled) return;
      this.#settled = true;
      this.#res.off('close', this.#onClose);
      this.#res.off('drain', this.#resume);
      this.#resolve(this.#status);
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.#res.off('drain', this.#resume);
    this.#fail(err);
  }
}

/**
 * An MLflow answer the gateway reads itself (a parent lookup, the server-info probe, a response
 * it filters), parsed as JSON. Anything else — a proxy's HTML error page, a truncated answer — is
 * MLflow's failure, reported as `code`, never as the gateway's internal error.
 */
export function parseAnswer(body: string, what: string, code: ErrorCode): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new GatehouseError(code, `${what}: answer is not JSON`);
  }
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
