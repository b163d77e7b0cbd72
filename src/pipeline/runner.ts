/**
 * Runs the stages in order for each request. The runner, not the stages, owns timing, the
 * per-request log line and turning errors into MLflow-shaped error responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, GatehouseError, toGatehouseError } from '../errors.ts';
import { mlflowErrorAnswer } from '../http/error-response.ts';
import { cutOf } from '../lib/connection-cuts.ts';
import type { Logger } from '../lib/logger.ts';
import { PHASES, reached, type RequestContext, type Stage } from './context.ts';

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

/**
 * Wraps every stage run (tracing, src/tracing/): a span around the stage. Absent (the default),
 * stages run with no wrapper and no closure at all.
 */
export interface StageWrapper {
  around(stage: Stage, ctx: RequestContext, run: () => Promise<void>): Promise<void>;
}

export interface Runner {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/**
 * Each stage must come after the stages that give its phase: a table that does not is a
 * programming error, refused when the runner is built (the per-request check still fails
 * closed if a stage does not deliver the phase it claims).
 */
function checkPhases(stages: readonly Stage[]): void {
  let phase = 0;
  for (const stage of stages) {
    if (PHASES.indexOf(stage.needs) > phase) throw new TypeError(`pipeline stage ${stage.name} needs phase ${stage.needs}; the stages before it give ${PHASES[phase]}`);
    if (stage.gives !== undefined) phase = Math.max(phase, PHASES.indexOf(stage.gives));
  }
}

export function createRunner(stages: readonly Stage[], log: Logger, options: { logRequests: boolean; observers?: readonly RequestObserver[]; wrapper?: StageWrapper }): Runner {
  checkPhases(stages);
  const wrapper = options.wrapper;
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
        method: req.method ?? '',
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
          // The answer is complete (forwarded, or answered by the gateway): no later stage has anything to add to it.
          if (res.writableEnded) break;
          // A client that left is not served further: nothing more is looked up or forwarded for it.
          if (res.destroyed) throw new GatehouseError('GATEHOUSE_CLIENT_ABORTED', `before ${stage.name}`);
          // A stage runs only in its phase: a table that put it earlier fails closed, never runs it on missing facts.
          if (!reached[stage.needs](ctx)) throw new GatehouseError('GATEHOUSE_INTERNAL_ERROR', `${stage.name} before phase ${stage.needs}`);
          await (wrapper ? wrapper.around(stage, ctx, () => timed(stage, ctx)) : timed(stage, ctx));
        }
      } catch (err) {
        respondWithError(ctx, clientLeft(ctx) ? aborted(ctx, err) : toGatehouseError(err), log);
      }
      // The answer was written but the client had gone before it was complete (a buffered answer).
      if (ctx.errorCode === undefined && clientLeft(ctx)) respondWithError(ctx, aborted(ctx, 'while the answer was written'), log);
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

/**
 * Runs one stage and records its duration in `ctx.stageMs` (metrics read it): the one place
 * per-stage timing happens, where tracing spans belong.
 */
async function timed(stage: Stage, ctx: RequestContext): Promise<void> {
  // performance.now(): a double, where hrtime.bigint() allocates two BigInts per stage.
  const begin = performance.now();
  try {
    const pending = stage.run(ctx);
    if (pending) await pending;
  } finally {
    ctx.stageMs[stage.name] = performance.now() - begin;
  }
}

/**
 * The client closed its connection before the answer was complete, and not because the gateway
 * cut it (the gateway cuts only after it has recorded its own error). Node marks the response
 * destroyed when the client's socket closes.
 */
function clientLeft(ctx: RequestContext): boolean {
  return ctx.res.destroyed && !ctx.res.writableFinished;
}

/**
 * The one error a closed connection becomes, whatever symptom reported it (an aborted upload, a
 * closed response): the gateway's own cut (lib/connection-cuts.ts) when it cut it, else the
 * client's departure.
 */
function aborted(ctx: RequestContext, cause: unknown): GatehouseError {
  const phase = ctx.res.headersSent ? 'response' : 'request';
  const what = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : String(cause);
  const cut = cutOf(ctx.req.socket);
  if (cut !== undefined) return new GatehouseError(cut === 'drain' ? 'GATEHOUSE_DRAIN_DEADLINE' : 'GATEHOUSE_CLIENT_TIMEOUT', `${cut}, ${phase}: ${what}`);
  ctx.clientGone = phase;
  if (cause instanceof GatehouseError && cause.code === 'GATEHOUSE_CLIENT_ABORTED') return cause;
  return new GatehouseError('GATEHOUSE_CLIENT_ABORTED', `${phase}: ${what}`);
}

function respondWithError(ctx: RequestContext, err: GatehouseError, log: Logger): void {
  ctx.errorCode = err.code;
  ctx.errorDetail = err.detail;
  if (err.reason !== undefined) ctx.errorReason = err.reason;
  if (err.code === 'GATEHOUSE_INTERNAL_ERROR') log.error({ reqId: ctx.requestId, detail: err.detail }, 'internal error');
  const { res, req } = ctx;
  if (res.headersSent) {
    // The upstream answer had started: the only honest signal left is a cut connection.
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const { status, headers, body } = mlflowErrorAnswer(err, !req.complete);
  res.writeHead(status, headers);
  if (req.complete || req.destroyed) res.end(body);
  else lingerThenEnd(req, res, body);
}

/** How long an error answer to a request still being sent keeps reading (and dropping) the rest of it. */
const LINGER_MS = 5_000;

/**
 * A client still sending its body (an upload MLflow died under) may read nothing until it has
 * sent everything, as urllib3 and many clients do. Closing at once would reset the connection
 * and lose the answer already written. So the answer is written whole (its Content-Length tells
 * the client it is complete), the rest of the upload is read and dropped, and the connection is
 * closed when the upload ends or LINGER_MS has passed (a "lingering close", as in nginx).
 */
function lingerThenEnd(req: RequestContext['req'], res: RequestContext['res'], body: string): void {
  res.write(body);
  const end = () => {
    clearTimeout(timer);
    req.off('end', end).off('close', end);
    res.end();
  };
  const timer = setTimeout(end, LINGER_MS);
  timer.unref();
  req.once('end', end).once('close', end);
  req.resume();
}
