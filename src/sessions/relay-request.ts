// A request the relay itself makes on a session (the REST API's tools/call): it waits its turn in
// the service queue like a client's request, runs in MCPClient's own id namespace, and ends at its
// deadline with request_timeout (MCPClient then tells the server with notifications/cancelled).
// One deadline, two phases: the queue's signal while it waits, MCPClient's timer for the rest.

import { McpmuxError, UpstreamError } from '../errors.js';
import type { MCPClient } from '../mcp/mcp-client.js';
import type { RequestQueue } from './request-queue.js';
import type { RequestObserver, RequestOutcome } from './request-outcome.js';

/** The outcome a relay error ends a request with (metrics). */
export function reasonOutcome(err: unknown): RequestOutcome {
  const reason = err instanceof McpmuxError ? err.reason : undefined;
  if (reason === 'queue_full') return 'queue_full';
  if (reason === 'request_timeout') return 'timeout';
  if (reason === 'cancelled') return 'cancelled';
  return 'closed';
}

export async function relayRequest(
  queue: RequestQueue,
  client: Pick<MCPClient, 'request'>,
  observer: RequestObserver | undefined,
  method: string,
  params: unknown,
  timeoutMs: number,
  priority = 0,
): Promise<unknown> {
  const receivedAt = performance.now();
  // One deadline: MCPClient's own (timeoutMs from now) while in flight; while the request waits
  // in the queue, the same deadline removes it through the signal.
  const deadlineAt = Date.now() + timeoutMs;
  const abort = queue.hasFreeSlot ? undefined : new AbortController();
  const timer = abort === undefined ? undefined : setTimeout(() => abort.abort(), timeoutMs);
  let result: unknown;
  try {
    await queue.run(
      async () => {
        clearTimeout(timer);
        observer?.dequeued(performance.now() - receivedAt);
        const leftMs = Math.max(1, deadlineAt - Date.now());
        result = await client.request(method, params, { timeoutMs: leftMs });
      },
      { signal: abort?.signal, priority },
    );
    observer?.done('ok', performance.now() - receivedAt);
    return result;
  } catch (err) {
    // The deadline passed while queued (AbortError from p-queue), or in flight (MCPClient's
    // timer, set to what was left of it): either way the caller's timeout is the one reported.
    const inFlightTimeout = err instanceof McpmuxError && err.reason === 'request_timeout';
    if ((abort?.signal.aborted === true && !(err instanceof McpmuxError)) || inFlightTimeout) {
      observer?.done('timeout', performance.now() - receivedAt);
      throw new McpmuxError('request_timeout', `${method} timed out after ${timeoutMs} ms`, {
        method,
        timeout_ms: timeoutMs,
      });
    }
    countFailure(observer, err, receivedAt);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Counts a failed request: its duration only when the server answered or the deadline passed. */
function countFailure(observer: RequestObserver | undefined, err: unknown, receivedAt: number) {
  if (observer === undefined) return;
  const outcome = err instanceof UpstreamError ? 'error' : reasonOutcome(err);
  if (outcome === 'error' || outcome === 'timeout') {
    observer.done(outcome, performance.now() - receivedAt);
  } else observer.done(outcome);
}
