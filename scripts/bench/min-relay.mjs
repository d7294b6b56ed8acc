// The least a Node WebSocket ↔ stdio relay can do, as a reference for the relay's CPU per request
// (docs/benchmarks.md, "What stands between the relay and 0.5× supergateway"; `npm run bench --
// --only-cpu` measures it beside the relay and supergateway). Per connection one server process;
// each message checked with one JSON.parse each way; writes to the server and to the socket
// coalesced per event-loop turn, as the relay does. Nothing else: no queue, no deadlines, no
// ids, no backpressure, no limits, no sandbox. Not a product: bench only.
// Usage: node scripts/bench/min-relay.mjs PORT SERVER_COMMAND...

import { spawn } from 'node:child_process';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const command = process.argv.slice(3);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });

/** Corks `stream` until the end of this turn (once per turn). */
function corker(stream) {
  let corked = false;
  return () => {
    if (corked) return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork();
    });
  };
}

wss.on('connection', (ws, req) => {
  const child = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  const corkIn = corker(child.stdin);
  const corkOut = corker(req.socket);
  ws.on('message', (data) => {
    const text = data.toString();
    JSON.parse(text);
    corkIn();
    child.stdin.write(text + '\n');
  });
  let pending = '';
  child.stdout.on('data', (chunk) => {
    const text = pending + chunk.toString();
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      JSON.parse(line);
      corkOut();
      ws.send(line);
    }
    pending = text.slice(start);
  });
  child.stdin.on('error', () => undefined);
  ws.on('close', () => child.kill());
});
