/**
 * The one registry of errors Gatehouse answers with. Every code is stable
 * (`GATEHOUSE_<AREA>_<THING>`), has an HTTP status, the MLflow `error_code` the Python client
 * understands (`mlflow/exceptions.py` ERROR_CODE_TO_HTTP_STATUS), and a public message.
 * A private `detail` may accompany an error for logs and audit; it never reaches the caller.
 * `docs/errors.md` is generated from this table and checked against it by a test.
 */
import type { ReasonId } from './model/decision.ts';

export interface ErrorSpec {
  readonly status: number;
  /** MLflow's error code, so `MlflowException` in the client reads it. */
  readonly mlflowCode: string;
  readonly message: string;
  /** When the client may retry, and how. */
  readonly hint?: string;
  /** How the audit event of a request this error ends records it (src/audit/event.ts). */
  readonly outcome: ErrorOutcome;
  /**
   * A refusal's reason id: what the audit event's decision carries when the request was refused
   * before (or instead of) a decision of the engine: an unknown route, a foreign workspace, a
   * resource not found in the caller's tenant, ...
   */
  readonly reason?: ReasonId;
  /** The RFC 7644 §3.12 `scimType` the SCIM door answers this error with, where one applies. */
  readonly scimType?: ScimType;
}

/** RFC 7644 §3.12's detail error keywords for a 400 (the SCIM door's `scimType`). */
export type ScimType = 'invalidFilter' | 'invalidSyntax' | 'invalidPath' | 'invalidValue' | 'noTarget' | 'mutability' | 'tooMany' | 'uniqueness';

/**
 * `denied`: refused (authentication, authorization, tenancy, rate limits); `malformed`: refused as
 * ambiguous or invalid; `failed`: the gateway or MLflow could not serve it; `aborted`: the exchange
 * was cut before the answer was complete (the client left, or the gateway cut it).
 */
export type ErrorOutcome = 'denied' | 'malformed' | 'failed' | 'aborted';

export const ERRORS = {
  GATEHOUSE_REQUEST_BAD_TARGET: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'The request target is not in origin form (an absolute URL, `*`, or a fragment was sent).',
  },
  GATEHOUSE_REQUEST_AMBIGUOUS_PATH: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The request path is ambiguous (encoded "/", "\\" or ".", dot segments, "//", backslashes, control characters or invalid percent-encoding); send it in plain canonical form.',
  },
  GATEHOUSE_REQUEST_AMBIGUOUS_QUERY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The query string is ambiguous (a parameter MLflow reads once is repeated, a field is spelled two ways, or it is malformed).',
  },
  GATEHOUSE_REQUEST_UNEXPECTED_QUERY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'This endpoint reads its parameters from the JSON body; a query string is not accepted.',
  },
  GATEHOUSE_REQUEST_UNEXPECTED_BODY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'This endpoint takes no request body (a body on GET is refused).',
  },
  GATEHOUSE_REQUEST_BAD_JSON: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The request body is not strict JSON: it must be UTF-8 without a byte-order mark, a single JSON object, with no NaN/Infinity, no duplicate keys and no integers beyond 2^53.',
  },
  GATEHOUSE_REQUEST_AMBIGUOUS_FIELD: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The request names the same field twice (snake_case and camelCase spellings, or run_id and run_uuid with different values).',
  },
  GATEHOUSE_REQUEST_BAD_CONTENT_TYPE: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'This endpoint expects Content-Type: application/json.',
  },
  GATEHOUSE_REQUEST_NONCANONICAL_ID: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'An identifier is not in canonical form: an experiment id must be a plain decimal integer (no sign, spaces, leading zeros or non-ASCII digits), and an artifact path must be relative, without "..", ".", "%", "\\", "#" or another workspace\'s prefix.',
  },
  GATEHOUSE_REQUEST_AMBIGUOUS_REFERENCE: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'A reference MLflow parses (a model version source or run_link, a models:/, runs:/, mlflow-artifacts:/ or file: URI, an artifact or attachment path) is in a form two parsers could read differently: control characters, leading or trailing whitespace, "%", "\\", "?", "#", an upper-case scheme, an empty authority ("models:///"), or empty, "." or ".." segments.',
  },
  GATEHOUSE_REQUEST_UNRESOLVED_SOURCE: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The model version source does not lie inside what the request names: a runs:/ source must name its run_id, a models:/<model_id> source its model_id, and any other artifact location must lie inside the artifact root of its run_id or model_id (the answer carries MLflow\'s own message).',
  },
  GATEHOUSE_REQUEST_INVALID_ID_TYPE: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'An identifier field holds a JSON number, boolean, list or object where MLflow reads a string; it is not converted (the answer carries MLflow\'s own message for it).',
  },
  GATEHOUSE_REQUEST_BAD_GRAPHQL: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message:
      'The GraphQL request is not valid: the body needs a `query` string that parses and validates against MLflow\'s schema, an object `variables` that fits it, an `operationName` that names one of its operations, and at most server.graphql.maxDepth levels and server.graphql.maxFields fields.',
  },
  GATEHOUSE_REQUEST_BAD_PAGE_TOKEN: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'The page_token was not issued by this gateway for this search; start again without one.',
  },
  GATEHOUSE_REQUEST_UNSAFE_FILTER: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'The search filter cannot be parsed safely; tag-mode tenancy must add its tenant constraint to it.',
    hint:
      'Write comparisons joined by AND: a key (name, attribute.name, tags.owner, tags.`a.b`), one of = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL, and a value quoted with \' or " that contains no quote and no backslash, a plain number, or a list (\'a\', \'b\'). OR, parentheses, comments, ";", "#" and control characters are refused.',
  },
  GATEHOUSE_REQUEST_TOO_LARGE: {
    status: 413,
    outcome: 'malformed',
    mlflowCode: 'RESOURCE_EXHAUSTED',
    message: 'The JSON request body is larger than the gateway accepts (server.maxJsonBodyBytes).',
  },
  GATEHOUSE_REQUEST_JSON_TOO_COMPLEX: {
    status: 413,
    outcome: 'malformed',
    mlflowCode: 'RESOURCE_EXHAUSTED',
    message: 'The JSON request body nests arrays and objects deeper than the gateway accepts (server.maxJsonDepth), or holds an array or object with more items than it accepts (server.maxJsonElements).',
  },
  GATEHOUSE_REQUEST_BODY_TIMEOUT: {
    status: 408,
    outcome: 'malformed',
    mlflowCode: 'DEADLINE_EXCEEDED',
    message: 'The request body did not arrive in time (server.jsonBodyTimeoutMs); the connection is closed.',
    hint: 'Retry; the MLflow client retries 408 by itself.',
  },
  GATEHOUSE_REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    outcome: 'malformed',
    mlflowCode: 'RESOURCE_EXHAUSTED',
    message: 'The request headers are larger than the gateway accepts (server.maxHeaderBytes); a bearer token carrying many groups is the usual cause.',
  },
  GATEHOUSE_REQUEST_BAD_HEADERS: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'The request headers are ambiguous (a header the gateway reads once is repeated, or both Content-Length and Transfer-Encoding are set).',
  },
  GATEHOUSE_REQUEST_FOREIGN_ORIGIN: {
    status: 403,
    outcome: 'denied',
    reason: 'foreign-origin',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'State-changing requests from another origin are refused.',
  },
  GATEHOUSE_ROUTE_UNKNOWN: {
    status: 404,
    outcome: 'denied',
    reason: 'unknown-route',
    mlflowCode: 'ENDPOINT_NOT_FOUND',
    message: 'No such MLflow endpoint is exposed by this gateway.',
  },
  GATEHOUSE_ROUTE_DISABLED: {
    status: 403,
    outcome: 'denied',
    reason: 'route-denied',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'This MLflow endpoint is disabled by the gateway.',
  },
  GATEHOUSE_AUTHN_REQUIRED: {
    status: 401,
    outcome: 'denied',
    reason: 'unauthenticated',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'Authentication is required: send HTTP Basic credentials or a bearer token.',
  },
  GATEHOUSE_AUTHN_INVALID: {
    status: 401,
    outcome: 'denied',
    reason: 'invalid-credentials',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'The credentials sent are not valid.',
  },
  GATEHOUSE_AUTHN_BEARER_NOT_ACCEPTED: {
    status: 401,
    outcome: 'denied',
    reason: 'bearer-not-accepted',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'Bearer token not accepted: no enabled identity provider accepts this kind of token.',
    hint: 'The answer says which kind (a Gatehouse API token, a JWT, an issuer, an opaque token) and which `auth.providers` entry would accept it; the audit event carries the reason id (`no-token-provider`, `no-jwt-provider`, `untrusted-issuer`, `opaque-bearer`).',
  },
  GATEHOUSE_AUTHN_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The identity provider (directory or IdP) is not reachable or did not answer in time; the credentials could not be checked.',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_AUTHZ_DENIED: {
    status: 403,
    outcome: 'denied',
    reason: 'no-grant',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'Permission denied.',
    hint: 'The answer to an MLflow call names the operation, the level it needs on which kind of resource, the reason ids and the request id (`Permission denied: runs.logMetric needs EDIT on run (no-grant). Request id: …`).',
  },
  GATEHOUSE_AUTHZ_GRAPHQL_UNSUPPORTED: {
    status: 403,
    outcome: 'denied',
    reason: 'graphql-unsupported',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'The GraphQL request selects a field the gateway cannot check, so it was refused.',
  },
  GATEHOUSE_AUTHZ_ARTIFACT_LOCATION: {
    status: 403,
    outcome: 'denied',
    reason: 'artifact-location',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'Only platform administrators may choose an experiment\'s artifact_location; leave it unset and MLflow places the artifacts under the tenant\'s own root.',
  },
  GATEHOUSE_AUTHZ_TENANT_TAG: {
    status: 403,
    outcome: 'denied',
    reason: 'tenant-tag',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'The tenant tag (tenancy.tagKey) is set by Gatehouse; only platform administrators may set, change or delete it.',
    hint: 'Leave the tag out: experiments and registered models created through Gatehouse get it automatically.',
  },
  GATEHOUSE_TENANT_WORKSPACES_VIRTUAL: {
    status: 400,
    outcome: 'failed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'In tag and instance tenancy the workspaces MLflow clients see are Gatehouse\'s tenants; create, change and delete them with the admin API, the CLI or the configuration file.',
  },
  GATEHOUSE_TENANT_FORBIDDEN: {
    status: 403,
    outcome: 'denied',
    reason: 'not-member',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'The workspace named in X-MLFLOW-WORKSPACE is not one of yours.',
  },
  GATEHOUSE_TENANT_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'This tenant cannot be served: the MLflow server behind the gateway does not have workspaces enabled.',
  },
  GATEHOUSE_RESOURCE_NOT_FOUND: {
    status: 404,
    outcome: 'denied',
    reason: 'not-in-tenant',
    mlflowCode: 'RESOURCE_DOES_NOT_EXIST',
    message: 'A resource named in the request does not exist.',
  },
  GATEHOUSE_RESOURCE_UNRESOLVABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'A resource named in the request could not be looked up to check access.',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_UPSTREAM_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The MLflow server is not reachable.',
    hint: 'Retry with backoff; the MLflow client does this by itself.',
  },
  GATEHOUSE_UPSTREAM_TIMEOUT: {
    status: 504,
    outcome: 'failed',
    mlflowCode: 'DEADLINE_EXCEEDED',
    message: 'The MLflow server did not answer in time.',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_UPSTREAM_BAD_RESPONSE: {
    status: 502,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The MLflow server closed the connection or sent an invalid response.',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_STORE_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The gateway store is not reachable.',
  },
  GATEHOUSE_AUDIT_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The audit trail cannot record this change right now (audit.mode is required), so it was not made.',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_RATE_LIMITED: {
    status: 429,
    outcome: 'denied',
    reason: 'rate-limited',
    mlflowCode: 'REQUEST_LIMIT_EXCEEDED',
    message: 'Too many requests (or too many failed sign-in attempts); slow down and retry after the time in Retry-After.',
    hint: 'Wait for Retry-After seconds; the MLflow client retries 429 with backoff.',
  },
  GATEHOUSE_RATE_LIMIT_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The shared rate-limit store (Redis) is not reachable, so the request was refused rather than let through unlimited (rateLimits.onBackendError is deny).',
    hint: 'Retry with backoff.',
  },
  GATEHOUSE_APPROVAL_REQUIRED: {
    status: 403,
    outcome: 'denied',
    reason: 'approval-required',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'Approval required: this call is held for approval and was not sent to MLflow.',
    hint: 'The message names the approval request id and the console page where it is followed (`Approval required (rule production-aliases): request <id> waits for 1 approval; follow it at …/_gatehouse/#/approvals/<id>`). Once approved, the gateway performs the stored call itself; do not retry it.',
  },
  GATEHOUSE_APPROVAL_NOT_FOUND: {
    status: 404,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_DOES_NOT_EXIST',
    message: 'No such approval request (or not one you may see).',
  },
  GATEHOUSE_APPROVAL_NOT_ELIGIBLE: {
    status: 403,
    outcome: 'denied',
    reason: 'approval-not-eligible',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'You may not decide this approval request: its rule names who may, and a requester never approves their own unless the rule allows it.',
  },
  GATEHOUSE_APPROVAL_ALREADY_VOTED: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message: 'You already decided this approval request; a second approval must come from a different person.',
  },
  GATEHOUSE_APPROVAL_CLOSED: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message: 'This approval request is no longer pending (it was executed, denied, refused or has expired).',
  },
  GATEHOUSE_APPROVAL_COMMENT_REQUIRED: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'A denial needs a comment saying why.',
  },
  GATEHOUSE_ADMIN_INVALID_PARAMETER: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'An admin API request is invalid; `details` names each field and what is wrong with it.',
  },
  GATEHOUSE_ADMIN_NOT_FOUND: {
    status: 404,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_DOES_NOT_EXIST',
    message: 'The user, service account, token, tenant, group, role, grant or session named does not exist.',
  },
  GATEHOUSE_ADMIN_CONFLICT: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message: 'The change conflicts with what exists (a name already taken, something still referenced, or the last administrator).',
  },
  GATEHOUSE_ADMIN_DECLARED: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message: 'This entry is declared in the configuration file (source: config); change it there, not through the API.',
  },
  GATEHOUSE_ADMIN_LAST_ADMIN: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message:
      'The change would leave no enabled platform administrator among local users (demoting, disabling or deleting the last one is refused through every door); make another administrator first.',
  },
  GATEHOUSE_ADMIN_MANAGED_BY_SCIM: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message:
      'The user or group is managed by SCIM (the identity provider provisions it): its active flag, existence and group memberships change only through the SCIM door, /_gatehouse/scim/v2. Change it in the identity provider.',
  },
  GATEHOUSE_SCIM_INVALID: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'invalidValue',
    message: 'A value in the SCIM request is invalid (a missing or mistyped attribute, a name Gatehouse cannot use, an unknown member); the detail names it.',
  },
  GATEHOUSE_SCIM_INVALID_FILTER: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'invalidFilter',
    message: 'The SCIM filter cannot be parsed or uses what this door does not support (RFC 7644 §3.4.2.2).',
  },
  GATEHOUSE_SCIM_INVALID_SYNTAX: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'invalidSyntax',
    message: 'The SCIM request body or query is not what the operation takes (not a JSON object, no PatchOp Operations, a query parameter given twice).',
  },
  GATEHOUSE_SCIM_INVALID_PATH: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'invalidPath',
    message: 'A PATCH operation\'s path is malformed or names no attribute this door knows.',
  },
  GATEHOUSE_SCIM_NO_TARGET: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'noTarget',
    message: 'A PATCH operation\'s path selects nothing to change.',
  },
  GATEHOUSE_SCIM_MUTABILITY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'mutability',
    message: 'A PATCH operation changes a read-only or immutable attribute.',
  },
  GATEHOUSE_SCIM_TOO_MANY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'tooMany',
    message: 'The SCIM request would return or change more resources than this door allows at once.',
  },
  GATEHOUSE_SCIM_NOT_FOUND: {
    status: 404,
    outcome: 'failed',
    mlflowCode: 'ENDPOINT_NOT_FOUND',
    message: 'No such SCIM endpoint, resource type or schema (see /_gatehouse/scim/v2/ResourceTypes and /Schemas).',
  },
  GATEHOUSE_SCIM_READ_ONLY: {
    status: 405,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'This SCIM discovery endpoint is read-only: only GET is allowed (the Allow header says so).',
  },
  GATEHOUSE_SCIM_VERSION_MISMATCH: {
    status: 412,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message: 'The resource changed since the version named in If-Match (RFC 7644 §3.14); read it again and retry.',
  },
  GATEHOUSE_ADMIN_MLFLOW_REFUSED: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message:
      'MLflow refused the change to the tenant\'s workspace (the message says why: a reserved name, workspaces not enabled, resources still in it); nothing was changed in Gatehouse.',
  },
  GATEHOUSE_ADMIN_NO_TOKEN_PROVIDER: {
    status: 409,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_CONFLICT',
    message:
      'No enabled identity provider of type `token` would accept this token, so it is not minted: add `- type: token` to `auth.providers` (it is there by default).',
  },
  GATEHOUSE_LOGIN_FORM_EXPIRED: {
    status: 403,
    outcome: 'denied',
    reason: 'foreign-origin',
    mlflowCode: 'PERMISSION_DENIED',
    message: 'The sign-in form expired or came from another site. Please sign in again.',
  },
  GATEHOUSE_LOGIN_PASSWORD_DISABLED: {
    status: 404,
    outcome: 'malformed',
    mlflowCode: 'ENDPOINT_NOT_FOUND',
    message: 'Password sign-in is not enabled.',
  },
  GATEHOUSE_LOGIN_RATE_LIMITED: {
    status: 429,
    outcome: 'denied',
    reason: 'rate-limited',
    mlflowCode: 'REQUEST_LIMIT_EXCEEDED',
    message: 'Too many failed sign-in attempts. Please wait a moment and try again.',
  },
  GATEHOUSE_LOGIN_INVALID_CREDENTIALS: {
    status: 401,
    outcome: 'denied',
    reason: 'invalid-credentials',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'Invalid username or password.',
  },
  GATEHOUSE_LOGIN_UNAVAILABLE: {
    status: 503,
    outcome: 'failed',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The directory or identity provider could not be reached. Please try again shortly.',
  },
  GATEHOUSE_LOGIN_UNKNOWN_PROVIDER: {
    status: 404,
    outcome: 'malformed',
    mlflowCode: 'ENDPOINT_NOT_FOUND',
    message: 'Unknown sign-in provider.',
  },
  GATEHOUSE_LOGIN_ATTEMPT_EXPIRED: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'The sign-in attempt expired or was not started here. Please sign in again.',
  },
  GATEHOUSE_LOGIN_FAILED: {
    status: 401,
    outcome: 'denied',
    reason: 'invalid-credentials',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'Sign-in with the identity provider failed (it did not identify a user, or its answer was refused). Please try again.',
  },
  GATEHOUSE_LOGIN_NOT_ALLOWED: {
    status: 401,
    outcome: 'denied',
    reason: 'unauthenticated',
    mlflowCode: 'UNAUTHENTICATED',
    message: 'This account may not sign in here. Ask your administrator.',
  },
  GATEHOUSE_ADMIN_ENDPOINT_NOT_FOUND: {
    status: 404,
    outcome: 'malformed',
    mlflowCode: 'ENDPOINT_NOT_FOUND',
    message: 'No such admin API endpoint (see /_gatehouse/api/v1/openapi.json).',
  },
  GATEHOUSE_HTTP_BAD_BODY: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    scimType: 'invalidSyntax',
    message: "The body of a request to Gatehouse's own API (admin, SCIM) cannot be read: it is not JSON, it is empty under a JSON content type, or its length is wrong.",
  },
  GATEHOUSE_HTTP_BODY_TOO_LARGE: {
    status: 413,
    outcome: 'malformed',
    mlflowCode: 'RESOURCE_EXHAUSTED',
    message: "The body of a request to Gatehouse's own API (admin, SCIM) is larger than it accepts.",
  },
  GATEHOUSE_HTTP_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: "The body of a request to Gatehouse's own API (admin, SCIM) has a content type it does not read; send application/json (or application/scim+json to SCIM).",
  },
  GATEHOUSE_COMPAT_INVALID_PARAMETER: {
    status: 400,
    outcome: 'malformed',
    mlflowCode: 'INVALID_PARAMETER_VALUE',
    message: 'A parameter of this MLflow auth API call is missing or invalid, or names something Gatehouse cannot map (see docs/migrating-from-mlflow-auth.md).',
  },
  GATEHOUSE_COMPAT_ALREADY_EXISTS: {
    status: 400,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_ALREADY_EXISTS',
    message: 'The user or permission already exists (MLflow auth API).',
  },
  GATEHOUSE_COMPAT_NOT_FOUND: {
    status: 404,
    outcome: 'failed',
    mlflowCode: 'RESOURCE_DOES_NOT_EXIST',
    message: 'The user or permission does not exist (MLflow auth API).',
  },
  GATEHOUSE_COMPAT_NOT_IMPLEMENTED: {
    status: 501,
    outcome: 'malformed',
    mlflowCode: 'NOT_IMPLEMENTED',
    message: 'Gatehouse cannot express this MLflow permission faithfully; the message says what to grant instead (see docs/migrating-from-mlflow-auth.md).',
  },
  GATEHOUSE_CLIENT_ABORTED: {
    status: 499,
    outcome: 'aborted',
    mlflowCode: 'CANCELLED',
    message: 'The client closed the connection before the answer was complete (mid-upload, waiting for the answer, or mid-download); nothing was sent back. Audited as `aborted`, never as a gateway or MLflow failure.',
  },
  GATEHOUSE_CLIENT_TIMEOUT: {
    status: 408,
    outcome: 'aborted',
    mlflowCode: 'DEADLINE_EXCEEDED',
    message: 'The gateway closed the connection: the client kept it waiting longer than server.clientIdleTimeoutMs (no byte of its upload arrived, or none of its answer was taken), or a body for Gatehouse\'s own endpoints was not complete within server.jsonBodyTimeoutMs. Nothing more was sent back. Audited as `aborted`, the gateway\'s cut, not as a client that left.',
  },
  GATEHOUSE_DRAIN_DEADLINE: {
    status: 503,
    outcome: 'aborted',
    mlflowCode: 'TEMPORARILY_UNAVAILABLE',
    message: 'The gateway was shutting down and closed the connection at the drain deadline, before the answer was complete.',
    hint: 'Retry: the replicas that stay serve it.',
  },
  GATEHOUSE_INTERNAL_ERROR: {
    status: 500,
    outcome: 'failed',
    mlflowCode: 'INTERNAL_ERROR',
    message: 'Internal gateway error.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A field of the caller's input at fault: dotted path (`experiment.id`; empty for the input as a whole) and what is wrong. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * The one error class: what a stage, a service or a door throws to refuse or fail. `detail` is
 * private (logs and audit only); the message is public. Each door renders it in its own shape
 * through the one writer, src/http/error-response.ts.
 */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** For invalid input: the fields at fault (the admin API answers them as `details`). */
  readonly details: readonly FieldProblem[] | undefined;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  /** The refusal's reason id when it is finer than the registry's (src/identity/authenticate.ts). */
  readonly reason: ReasonId | undefined;

  /**
   * `message` replaces the registry's public message where MLflow itself has words for the
   * refusal (they may quote the caller's own input, never anything else).
   */
  constructor(code: ErrorCode, detail?: string, headers?: Record<string, string>, message?: string, reason?: ReasonId, details?: readonly FieldProblem[]) {
    super(message ?? ERRORS[code].message);
    this.name = 'GatehouseError';
    this.code = code;
    this.detail = detail;
    this.details = details;
    this.headers = headers;
    this.reason = reason;
  }

  get spec(): ErrorSpec {
    return ERRORS[this.code];
  }
}

/**
 * A refusal whose message is written for the (authenticated) caller, with the fields at fault for
 * invalid input: what the services throw (src/services/errors.ts names the common ones). Never
 * put a secret in it.
 */
export function callerError(code: ErrorCode, message?: string, details?: readonly FieldProblem[]): GatehouseError {
  return new GatehouseError(code, undefined, undefined, message, undefined, details);
}

/**
 * The engine's refusal, explaining itself (issue 20): the operation, what it needs on which kind
 * of resource, the reason ids and the request id. It never names a resource: another tenant's is
 * answered as not found before this (GATEHOUSE_RESOURCE_NOT_FOUND), so nothing here tells which exist.
 */
export function permissionDenied(op: string, needs: readonly string[] | undefined, reasons: readonly string[], requestId: string): GatehouseError {
  const what = needs && needs.length > 0 ? `${op} needs ${needs.join(' and ')}` : `${op} is not allowed`;
  return new GatehouseError('GATEHOUSE_AUTHZ_DENIED', reasons.join(','), undefined, `Permission denied: ${what} (${reasons.join(', ')}). Request id: ${requestId}.`);
}


/** Anything that is not a GatehouseError becomes a generic internal error; its text stays private. */
export function toGatehouseError(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new GatehouseError('GATEHOUSE_INTERNAL_ERROR', detail);
}
