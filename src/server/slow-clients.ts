/**
 * Deadlines for clients that Node's server does not enforce itself (docs/security.md, "Slow and
 * idle clients"). Node cuts slow headers (`headersTimeout`), whole requests (`requestTimeout`, off
 * by default: multi-GiB artifact uploads) and idle keep-alive connections; between the headers
 * and the end of the answer it waits forever. Here:
 * - a client may keep the gateway waiting at most `clientIdleTimeoutMs`: no byte of a body it is
 *   sending while the gateway reads it, or no byte of its answer taken while the gateway has more
 *   to write. A stalled upload or an unread download would otherwise hold a client connection and
 *   one of MLflow's pool connections for good (undici's body timeout sleeps while the gateway has
 *   paused MLflow's answer for a full client). A pause that is the gateway's or MLflow's (no reader
 *   yet, MLflow's backpressure, MLflow still computing its answer) does not count;
 * - a body for Gatehouse's own endpoints (login form, admin API) must be complete within
 *   `jsonBodyTimeoutMs`, as the MLflow API's JSON bodies must (read-body answers those with 408).
 * A cut closes the connection: the streaming forward then aborts MLflow's side of the exchange,
 * and the request is audited as the gateway's cut (`GATEHOUSE_CLIENT_TIMEOUT`), not as a client
 * that left.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cutConnection } from '../lib/connection-cuts.ts';

export interface ClientDeadlines {
  /** Longest the client may keep the gateway waiting; 0: none. */
  readonly idleMs: number;
  /** Longest time for the whole request body, from now; 0: none. */
  readonly bodyMs: number;
}

const expectsBody = (req: IncomingMessage) => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** Arms the deadlines for one exchange, from its headers to the end of its answer. */
export function guardClient(req: IncomingMessage, res: ServerResponse, deadlines: ClientDeadlines): void {
  const { socket } = req;
  if (deadlines.idleMs > 0) {
    // The socket's inactivity timer: Node refreshes it on every byte read and every write.
    // Once the answer is done, Node re-arms it for keep-alive and this listener is detached.
    res.setTimeout(deadlines.idleMs, () => {
      const uploading = !req.complete && req.readableFlowing === true;
      const unread = req.complete && (res.writableNeedDrain || socket.writableLength > 0);
      if (uploading || unread) cutConnection(socket, 'client-idle');
      else socket.setTimeout(deadlines.idleMs);
    });
  }
  if (deadlines.bodyMs > 0 && !req.complete && expectsBody(req)) {
    const timer = setTimeout(() => req.complete || cutConnection(socket, 'client-body'), deadlines.bodyMs);
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  }
}
