/**
 * One MLflow server behind the gateway: a keep-alive undici Pool, and a streaming forward.
 * Bodies stream both ways (a buffered JSON body is sent as is); nothing is held in memory
 * beyond the socket buffers, so multi-GiB artifacts pass with flat memory.
 */
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import type { PoolStats } from '../metrics/definitions.ts';
import { downstreamResponseHeaders, type HeaderDropSink } from './headers.ts';
import { MAX_ERROR_ANSWER_BYTES, cleanErrorAnswer, isInspectedError } from './error-hygiene.ts';

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
  readonly sink?: AnswerSink;
}

/** What the gateway changed in MLflow's answer: headers dropped, an error message withheld (src/upstream/error-hygiene.ts). */
export interface AnswerSink extends HeaderDropSink {
  /** MLflow's original error answer, when its internals were withheld from the client (for the audit event). */
  withheldError?: string;
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
        const handler = new StreamingAnswer(res, request, onHeaders, resolve, (err, started) => reject(mapUpstreamError(err, started)));
        pool.dispatch({ path: request.path, method: request.method, headers: request.headers, body: handler.watch(request.body) }, handler);
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
        const headers = downstreamResponseHeaders(r.headers as Record<string, string | string[]>, { cacheable: request.cacheable ?? false }, request.sink);
        const body = Buffer.concat(chunks);
        if (!isInspectedError(r.statusCode, headers['content-type'])) return { status: r.statusCode, headers, body };
        return { status: r.statusCode, headers, body: cleanedError(r.statusCode, headers, body, body.length <= MAX_ERROR_ANSWER_BYTES, request.sink) };
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
 * An inspected error answer as the client may see it (error-hygiene.ts): its body, with `headers`
 * adjusted to it; what was withheld goes to the sink. `complete`: all of MLflow's answer was read.
 */
function cleanedError(status: number, headers: Record<string, string | string[]>, body: Buffer, complete: boolean, sink: AnswerSink | undefined): Buffer {
  // A content-coded body cannot be read, so it counts as not inspected.
  const coding = headers['content-encoding'];
  const encoded = coding !== undefined && String(coding).trim().toLowerCase() !== 'identity';
  const clean = cleanErrorAnswer(status, body, complete && !encoded);
  if (clean.withheld !== undefined && sink) sink.withheldError = clean.withheld;
  delete headers['content-encoding'];
  headers['content-length'] = String(clean.body.length);
  return clean.body;
}

/**
 * The dispatch handler of a streamed answer: MLflow's status and headers, then its body chunks
 * straight into the client's response, pausing MLflow's socket while the client's is full.
 * (undici's `Pool.stream` does the same through an AsyncResource, a stream-lifecycle tracker and
 * a Promise per request, and writes the zero-length body chunks its parser reports after each
 * socket read — each an empty write syscall: docs/performance.md, 2026-11-23 03:30.) Settles once:
 * with MLflow's status when the response has been handed to the client's socket, or with the
 * error and whether the answer had started.
 *
 * The head is written with the first body byte (or the end), not when MLflow's head arrives: an
 * MLflow that dies in between has sent the client nothing, and the client still gets a 502. A
 * JSON error answer is buffered (bounded) and cleaned of internals before anything is written
 * (src/upstream/error-hygiene.ts).
 */
class StreamingAnswer implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #headers: Record<string, string | string[]> | null = null;
  /** Chunks of an error answer being inspected; null while streaming. */
  #error: Buffer[] | null = null;
  #errorBytes = 0;
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

  /**
   * The body undici sends. A streamed client upload is passed through a stream of its own: when
   * MLflow fails, undici destroys what it was sending, and destroying the client's request would
   * close the client's connection before it could read the gateway's 502. A client upload that
   * fails (the client cut it) ends the exchange, queued or not.
   */
  watch(body: ForwardRequest['body']): Buffer | PassThrough | null {
    if (body === null || Buffer.isBuffer(body)) return body;
    body.on('error', (err) => {
      this.#controller?.abort(err);
      this.#fail(err);
    });
    return body.pipe(new PassThrough({ highWaterMark: 64 * 1024 }));
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
    this.#reject(err, this.#res.headersSent);
  }

  /** Writes the head MLflow sent (filtered) once there is something to send with it. */
  #writeHead(headers: Record<string, string | string[]>): void {
    this.#res.writeHead(this.#status, headers);
    this.#res.on('drain', this.#resume);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#settled) controller.abort(new undiciErrors.RequestAbortedError('the exchange ended before MLflow was asked'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.#settled) return; // 1xx: informational, the answer follows
    this.#status = statusCode;
    this.#onHeaders?.(statusCode);
    this.#headers = downstreamResponseHeaders(headers, { cacheable: this.#request.cacheable ?? false }, this.#request.sink);
    if (isInspectedError(statusCode, this.#headers['content-type'])) this.#error = [];
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (chunk.length === 0 || this.#settled) return;
    if (this.#error) {
      // Past the bound the rest is read and dropped: the answer is withheld whole (error-hygiene.ts).
      if (this.#errorBytes <= MAX_ERROR_ANSWER_BYTES) this.#error.push(chunk);
      this.#errorBytes += chunk.length;
      return;
    }
    if (this.#headers) {
      this.#writeHead(this.#headers);
      this.#headers = null;
    }
    if (!this.#res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    if (this.#error) {
      const headers = this.#headers!;
      const body = cleanedError(this.#status, headers, Buffer.concat(this.#error), this.#errorBytes <= MAX_ERROR_ANSWER_BYTES, this.#request.sink);
      this.#writeHead(headers);
      this.#res.end(body, this.#done);
      return;
    }
    if (this.#headers) this.#writeHead(this.#headers);
    this.#res.end(this.#done);
  }

  #done = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#res.off('close', this.#onClose);
    this.#res.off('drain', this.#resume);
    this.#resolve(this.#status);
  };

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
