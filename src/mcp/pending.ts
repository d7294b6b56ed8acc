// The requests MCPClient itself has made and not yet seen answered (initialize, a spare's ping, the
// tool-list fetch: what the relay does outside a session; a session's requests, REST calls too, are
// in its ClientRequests): ids in the relay's own namespace, each with its deadline, abort signal
// and progress callback, all released in one place.

import { McpmuxError, UpstreamError } from '../errors.js';
import type { JsonRpcResponse } from '../jsonrpc/types.js';

export interface ProgressParams {
  progressToken: string | number;
  progress: number;
  total?: number;
  message?: string;
}

interface Entry {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  onProgress: ((p: ProgressParams) => void) | undefined;
  cleanup: () => void;
}

export interface PendingOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ProgressParams) => void) | undefined;
  /** Called when the request ends without an answer (timeout, abort): tell the server. */
  onGiveUp: (id: string, reason: string) => void;
}

export class PendingRequests {
  readonly #entries = new Map<string, Entry>();

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  add(id: string, method: string, options: PendingOptions): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const { signal } = options;
      const onAbort = () => {
        this.#settle(id, new McpmuxError('cancelled', `${method} was cancelled`, { method }));
        options.onGiveUp(id, 'cancelled by the caller');
      };
      const timer = setTimeout(() => {
        const err = new McpmuxError(
          'request_timeout',
          `${method} timed out after ${options.timeoutMs} ms`,
          {
            method,
            timeout_ms: options.timeoutMs,
          },
        );
        this.#settle(id, err);
        options.onGiveUp(id, 'request timed out');
      }, options.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#entries.set(id, { method, resolve, reject, onProgress: options.onProgress, cleanup });
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Settles the request a response answers; false when it is not one of ours. */
  resolve(response: JsonRpcResponse): boolean {
    const id = response.id;
    if (typeof id !== 'string') return false;
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#entries.delete(id);
    entry.cleanup();
    if ('error' in response) entry.reject(new UpstreamError(response.error));
    else entry.resolve(response.result);
    return true;
  }

  /**
   * Delivers progress for one of our requests; false when the token is not ours. `params` is the
   * notification's, unchecked: a server may send none at all.
   */
  progress(params: unknown): boolean {
    if (typeof params !== 'object' || params === null) return false;
    const p = params as ProgressParams;
    if (typeof p.progressToken !== 'string') return false;
    const entry = this.#entries.get(p.progressToken);
    if (entry === undefined) return false;
    entry.onProgress?.(p);
    return true;
  }

  /** Fails every pending request with `err` (process exit, stop). */
  rejectAll(err: Error): void {
    for (const id of [...this.#entries.keys()]) this.#settle(id, err);
  }

  #settle(id: string, err: Error): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    entry.cleanup();
    entry.reject(err);
  }
}
