/**
 * What one request carries through the pipeline. Stages read and fill it in order
 * (see `stages.ts`); the runner owns timing, logging and turning errors into responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CanonicalTarget } from '../lib/target.ts';
import type { RouteMatch } from '../routes/mlflow/match.ts';
import type { ErrorCode } from '../errors.ts';
import type { GraphqlInspection } from '../routes/mlflow/graphql.ts';
import type { UriParts } from '../routes/mlflow/references.ts';
import type { Decision, ReasonId } from '../model/decision.ts';
import type { Principal } from '../model/principal.ts';
import type { ResourceId } from '../model/resource.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** process.hrtime.bigint() at arrival. */
  readonly startedAt: bigint;
  /** Address of the TCP peer. */
  readonly peer: string;
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

/** A pipeline stage: one check or transformation. Throws GatehouseError to end the request. */
export interface Stage {
  readonly name: string;
  run(ctx: RequestContext): void | Promise<void>;
}
