// WebSocket heartbeat (server.heartbeat_interval; docs/protocol.md, "Heartbeat"): every interval
// the relay pings each connection; a peer whose pong to the previous ping has not come back by
// the next tick is terminated, so its sessions detach at once and their resume_window starts
// (instead of minutes later, when TCP notices a network that went away without a close).

import type { WebSocket } from 'ws';

/**
 * Starts the heartbeat of `ws` (nothing when `intervalSeconds` is 0); it stops by itself when the
 * socket closes. A silent peer is terminated (close code 1006: its sessions detach).
 */
export function startHeartbeat(ws: WebSocket, intervalSeconds: number): void {
  if (!(intervalSeconds > 0)) return;
  let answered = true;
  const onPong = () => (answered = true);
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
  }, intervalSeconds * 1000);
  timer.unref();
  ws.on('pong', onPong);
  ws.once('close', () => {
    clearInterval(timer);
    ws.off('pong', onPong);
  });
}
