/**
 * Deadlines for request bodies that Node's server does not enforce itself (docs/security.md,
 * "Slow and idle clients"). Node cuts slow headers (`headersTimeout`), whole requests
 * (`requestTimeout`, off by default: multi-GiB artifact uploads) and idle keep-alive connections;
 * between the headers and the last body byte it waits forever. Here:
 * - every body may pause at most `bodyIdleTimeoutMs` while its reader wants more: a stalled
 *   artifact upload would otherwise hold a client connection and an MLflow pool connection;
 * - a body for Gatehouse's own endpoints (login form, admin API) must be complete within
 *   `jsonBodyTimeoutMs`, as the MLflow API's JSON bodies must (read-body answers those with 408).
 * A cut closes the connection: the streaming forward then aborts MLflow's side of the exchange.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BodyDeadlines {
  /** Longest pause while the body is being read; 0: none. */
  readonly idleMs: number;
  /** Longest time for the whole body, from now; 0: none. */
  readonly totalMs: number;
}

const expectsBody = (req: IncomingMessage) => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Arms the deadlines for one request's body; nothing when it has none. */
export function guardBody(req: IncomingMessage, res: ServerResponse, deadlines: BodyDeadlines): void {
  if (req.complete || !expectsBody(req)) return;
  const { socket } = req;
  let total: NodeJS.Timeout | undefined;
  if (deadlines.idleMs > 0) {
    // The socket's inactivity timer: Node refreshes it on every byte read or written.
    req.setTimeout(deadlines.idleMs, () => {
      if (req.complete) return;
      // Nobody reads yet (authentication, audit) or the reader paused it (MLflow's backpressure):
      // the pause is the gateway's or MLflow's, not the client's.
      if (req.readableFlowing !== true) socket.setTimeout(deadlines.idleMs);
      else socket.destroy();
    });
  }
  if (deadlines.totalMs > 0) total = setTimeout(() => req.complete || socket.destroy(), deadlines.totalMs);
  req.once('end', () => {
    clearTimeout(total);
    // The body is in: the answer's pace is MLflow's (mlflow.* timeouts). Once the answer is done
    // the socket's timer is Node's keep-alive timeout, which must stay.
    if (deadlines.idleMs > 0 && !res.writableFinished) socket.setTimeout(0);
  });
  req.once('close', () => clearTimeout(total));
}
