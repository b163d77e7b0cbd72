/** A policy decision is data: the log line, the audit event and `policy explain` use the same reason ids. */
export type ReasonId =
  | 'public-route'
  | 'route-denied'
  | 'platform-admin'
  | 'dev-allow-all'
  | 'authenticated-route'
  | 'not-admin'
  | 'default-deny';

export interface Decision {
  readonly effect: 'allow' | 'deny';
  readonly reasons: readonly ReasonId[];
}
