/**
 * What one request carries through the pipeline. Stages read and fill it in order
 * (see `stages.ts`); the runner owns timing, logging and turning errors into responses.
 *
 * `RequestContext` is the record observers (audit, metrics) read once the request ended: every
 * fact a stage may not have reached is optional there. A stage instead runs in a phase that says
 * what is known by then (canonical → matched → authorized → rewritten, each adding what its
 * stage established); the runner checks the phase before it runs the stage (`reached`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CanonicalTarget } from '../lib/target.ts';
import type { RouteMatch } from '../routes/mlflow/match.ts';
import type { ErrorCode } from '../errors.ts';
import type { GraphqlInspection } from '../routes/mlflow/graphql.ts';
import type { UriParts } from '../routes/mlflow/references.ts';
import type { Decision, ReasonId } from '../model/decision.ts';
import type { AccessRequest } from '../model/access.ts';
import type { Principal } from '../model/principal.ts';
import type { ResourceId } from '../model/resource.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** process.hrtime.bigint() at arrival. */
  readonly startedAt: bigint;
  /** Address of the TCP peer. */
  readonly peer: string;
  /** The request method (node:http sets it on every request a server receives). */
  readonly method: string;
  requestId: string;
  target?: CanonicalTarget;
  route?: RouteMatch;
  principal?: Principal;
  tenant?: string;
  /** The buffered request body, for `json` routes. Exactly these bytes are forwarded. */
  body?: Buffer;
  /** The parsed JSON body, for `json` routes. */
  json?: unknown;
  resources: ResourceId[];
  /**
   * A model version source naming an artifact location: it must lie inside the artifact root of
   * the request's run (`run_id`) or logged model (`model_id`), checked once those are authorized.
   */
  sourceRoot?: { readonly source: string; readonly uri: UriParts; readonly runId: string; readonly modelId: string };
  /** For `POST /graphql`: what the query reads, field by field (inspect-graphql stage). */
  graphql?: GraphqlInspection;
  decision?: Decision;
  /** The engine's input the decision was made on (authorize; not for GraphQL): a held call is decided again on it before it executes. */
  access?: AccessRequest;
  /** For a search allowed only item by item (decision.filter, tag mode): whether one result (an item of MLflow's answer) may be shown. */
  searchFilter?: (item: Record<string, unknown>) => boolean | Promise<boolean>;
  /** Search parameters sent instead of the caller's (tag mode: its filter with the tenant clause). */
  searchParams?: Record<string, unknown>;
  /** Headers to send upstream; built by the rewrite stage. */
  upstreamHeaders?: Record<string, string | string[]>;
  /** Headers not passed on, by `<direction>:<class>` (src/upstream/headers.ts; the metrics observer counts them). */
  droppedHeaders?: Record<string, number>;
  /** MLflow's original error answer when its internals were withheld from the client (src/upstream/error-hygiene.ts); audit only. */
  withheldError?: string;
  /** An answer of MLflow the filter-response stage reads before the client sees it (forward buffers it; stages/filter-response.ts). */
  answer?: BufferedAnswer;
  /** Upstream status once the response started. */
  upstreamStatus?: number;
  /** The client closed the connection before the answer was complete: while sending or waiting (`request`) or while receiving it (`response`). Set by the runner. */
  clientGone?: 'request' | 'response';
  /** Set when the request ended with an error response. */
  errorCode?: ErrorCode;
  errorDetail?: string;
  /** The refusal's reason id when the error carries one finer than its registry entry's. */
  errorReason?: ReasonId;
  /** Milliseconds spent in each stage that ran, by stage name (the runner fills it; metrics read it). */
  readonly stageMs: Record<string, number>;
}

/** MLflow's answer, read whole (bounded) instead of streamed. */
export interface BufferedAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** The target is canonical (canonicalize). */
export interface Canonical extends RequestContext {
  readonly target: CanonicalTarget;
}

/** The route is known (match-route); authentication, tenant, body and resources follow. */
export interface Matched extends Canonical {
  readonly route: RouteMatch;
}

/** The engine decided (authorize); an error ended the request otherwise. */
export interface Authorized extends Matched {
  readonly decision: Decision;
}

/** What MLflow receives is built (rewrite-request). */
export interface Rewritten extends Authorized {
  readonly upstreamHeaders: Record<string, string | string[]>;
}

export interface Phases {
  readonly arrived: RequestContext;
  readonly canonical: Canonical;
  readonly matched: Matched;
  readonly authorized: Authorized;
  readonly rewritten: Rewritten;
}

export type Phase = keyof Phases;

/** The phases in the order a request goes through them. */
export const PHASES: readonly Phase[] = ['arrived', 'canonical', 'matched', 'authorized', 'rewritten'];

/** Whether the request reached `phase`: the facts that phase promises are there. */
export const reached: { readonly [P in Phase]: (ctx: RequestContext) => ctx is Phases[P] } = {
  arrived: (ctx): ctx is RequestContext => true,
  canonical: (ctx): ctx is Canonical => ctx.target !== undefined,
  matched: (ctx): ctx is Matched => ctx.target !== undefined && ctx.route !== undefined,
  authorized: (ctx): ctx is Authorized => ctx.target !== undefined && ctx.route !== undefined && ctx.decision !== undefined,
  rewritten: (ctx): ctx is Rewritten => ctx.target !== undefined && ctx.route !== undefined && ctx.decision !== undefined && ctx.upstreamHeaders !== undefined,
};

/**
 * A pipeline stage: one check or transformation, run in the phase it `needs` (the runner
 * refuses to run it earlier). Throws GatehouseError to end the request.
 */
export interface Stage<P extends Phase = Phase> {
  readonly name: string;
  readonly needs: P;
  /** The phase the request is in once this stage ran (canonicalize gives `canonical`, ...). */
  readonly gives?: Phase;
  run(ctx: Phases[P]): void | Promise<void>;
}
