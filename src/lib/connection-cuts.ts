/**
 * Connections the gateway itself cuts (a client past its idle or body deadline, the end of a
 * drain), marked before they are destroyed so the runner audits the cut as the gateway's and not
 * as a client that left (`GATEHOUSE_CLIENT_TIMEOUT`, `GATEHOUSE_DRAIN_DEADLINE`: src/errors.ts).
 */
import type { Socket } from 'node:net';

export type GatewayCut = 'client-idle' | 'client-body' | 'drain';

const cuts = new WeakMap<Socket, GatewayCut>();

/** Records why the gateway is about to close `socket`; the first reason stays. */
export function markCut(socket: Socket, why: GatewayCut): void {
  if (!cuts.has(socket)) cuts.set(socket, why);
}

export function cutConnection(socket: Socket, why: GatewayCut): void {
  markCut(socket, why);
  socket.destroy();
}

/** Why the gateway cut this connection; undefined when it did not. */
export const cutOf = (socket: Socket | null | undefined): GatewayCut | undefined => (socket ? cuts.get(socket) : undefined);
