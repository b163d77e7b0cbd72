/**
 * Runs the stages in order for each request. The runner, not the stages, owns timing, the
 * per-request log line and turning errors into MLflow-shaped error responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, mlflowErrorBody, toGatehouseError, type GatehouseError } from '../errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { RequestContext, Stage } from './context.ts';

export interface RequestEvent {
  readonly ctx: RequestContext;
  readonly status: number;
  readonly durationMs: number;
}

/**
 * Watches requests go through the pipeline (audit, metrics, tests). Observers must not throw;
 * one that does is logged and the others still run.
 */
export interface RequestObserver {
  /** The request arrived (before any stage). */
  onStart?(ctx: RequestContext): void;
  /** The request ended: response sent or connection cut. */
  onDone?(e: RequestEvent): void;
}

export interface Runner {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createRunner(stages: readonly Stage[], log: Logger, options: { logRequests: boolean; observers?: readonly RequestObserver[] }): Runner {
  const observers = options.observers ?? [];
  // Plain loops, no closure per request: this runs twice for every request (docs/performance.md).
  const starting = observers.filter((o) => o.onStart);
  const finishing = observers.filter((o) => o.onDone);
  const failed = (err: unknown) => log.error({ err: (err as Error).message }, 'request observer failed');
  return {
    async handle(req, res) {
      const ctx: RequestContext = {
        req,
        res,
        startedAt: process.hrtime.bigint(),
        peer: req.socket.remoteAddress ?? '',
        requestId: '',
        resources: [],
        stageMs: {},
      };
      for (const o of starting) {
        try {
          o.onStart!(ctx);
        } catch (err) {
          failed(err);
        }
      }
      try {
        for (const stage of stages) {
          // performance.now(): a double, where hrtime.bigint() allocates two BigInts per stage.
          const begin = performance.now();
          try {
            const pending = stage.run(ctx);
            if (pending) await pending;
          } finally {
            ctx.stageMs[stage.name] = performance.now() - begin;
          }
        }
      } catch (err) {
        respondWithError(ctx, toGatehouseError(err), log);
      }
      const durationMs = Number(process.hrtime.bigint() - ctx.startedAt) / 1e6;
      const status = ctx.errorCode ? ERRORS[ctx.errorCode].status : (ctx.upstreamStatus ?? res.statusCode);
      if (options.logRequests) {
        log.info(
          {
            reqId: ctx.requestId,
            method: req.method,
            op: ctx.route?.row.op,
            status,
            upstreamStatus: ctx.upstreamStatus,
            principal: ctx.principal?.id,
            decision: ctx.decision?.effect,
            reasons: ctx.decision?.reasons,
            error: ctx.errorCode,
            detail: ctx.errorDetail,
            ms: Math.round(durationMs * 10) / 10,
          },
          'request',
        );
      }
      const event: RequestEvent = { ctx, status, durationMs };
      for (const o of finishing) {
        try {
          o.onDone!(event);
        } catch (err) {
          failed(err);
        }
      }
    },
  };
}

function respondWithError(ctx: RequestContext, err: GatehouseError, log: Logger): void {
  ctx.errorCode = err.code;
  ctx.errorDetail = err.detail;
  if (err.code === 'GATEHOUSE_INTERNAL_ERROR') log.error({ reqId: ctx.requestId, detail: err.detail }, 'internal error');
  const { res, req } = ctx;
  if (res.headersSent) {
    // The upstream answer had started: the only honest signal left is a cut connection.
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const body = mlflowErrorBody(err.code);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...err.headers,
  };
  // An unread request body would be taken for the next request on this connection.
  if (!req.complete) headers.connection = 'close';
  // An error carrying a Location (unauthenticated browser navigation) is answered as a redirect.
  res.writeHead(err.headers?.location !== undefined ? 302 : err.spec.status, headers);
  res.end(body);
}
