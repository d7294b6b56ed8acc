// A request the relay itself makes on a session (the REST API's tools/call): it waits its turn in
// the service queue like a client's request, runs in MCPClient's own id namespace, and ends at its
// deadline with request_timeout (MCPClient then tells the server with notifications/cancelled).

import { McpmuxError, UpstreamError } from '../errors.js';
import type { MCPClient } from '../mcp/mcp-client.js';
import type { RequestQueue } from './request-queue.js';
import type { RequestObserver, RequestOutcome } from './session.js';

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
  client: MCPClient,
  observer: RequestObserver | undefined,
  method: string,
  params: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const receivedAt = performance.now();
  // Uncontended (a slot free, nobody waiting): straight to the server, without a p-queue job or
  // an AbortController; MCPClient's own deadline ends it with the same request_timeout.
  let release: (() => void) | undefined;
  if (queue.tryRunNow((done) => (release = done))) {
    observer?.dequeued(0);
    try {
      const result = await client.request(method, params, { timeoutMs });
      observer?.done('ok', performance.now() - receivedAt);
      return result;
    } catch (err) {
      countFailure(observer, err, receivedAt);
      throw err;
    } finally {
      release!();
    }
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let result: unknown;
  try {
    await queue.run(async () => {
      observer?.dequeued(performance.now() - receivedAt);
      result = await client.request(method, params, { timeoutMs, signal: abort.signal });
    }, abort.signal);
    observer?.done('ok', performance.now() - receivedAt);
    return result;
  } catch (err) {
    // The deadline passed while queued (AbortError) or in flight (cancelled by our signal).
    const deadlinePassed =
      abort.signal.aborted && !(err instanceof McpmuxError && err.reason !== 'cancelled');
    if (deadlinePassed) {
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
