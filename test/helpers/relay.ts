// Starts an in-process relay on 127.0.0.1:0 for a test, and reads WebSocket traffic as a cursor.

import { once } from 'node:events';
import { WebSocket } from 'ws';
import type { Config, ServiceConfig } from '../../src/config/types.js';
import { Relay } from '../../src/relay.js';
import { testConfig, type TestConfigOptions } from './config.js';
import type { Logger } from '../../src/log.js';

export interface TestRelay {
  relay: Relay;
  config: Config;
  url: string;
  ws(path: string): string;
  close(): Promise<void>;
}

export async function startRelay(
  services: Record<string, ServiceConfig>,
  options: TestConfigOptions & { logger?: Logger; stopGraceMs?: number } = {},
): Promise<TestRelay> {
  const config = testConfig(services, options);
  const relay = new Relay(config, {
    stopGraceMs: options.stopGraceMs ?? 300,
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  await relay.start();
  const url = relay.url;
  return {
    relay,
    config,
    url,
    ws: (path) => url.replace(/^http/, 'ws') + path,
    close: async () => {
      await relay.close();
      config.cleanup();
    },
  };
}

/** Reads a WebSocket's text frames in order, each awaited under a deadline. */
export class WsCursor {
  readonly ws: WebSocket;
  /** Headers of the 101 response. */
  headers: Record<string, string> = {};
  readonly #queue: string[] = [];
  #waiter: (() => void) | undefined;
  #closed: { code: number; reason: string } | undefined;
  readonly #closedPromise: Promise<{ code: number; reason: string }>;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#queue.push(data.toString('utf8'));
      this.#waiter?.();
    });
    this.#closedPromise = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.#closed = { code, reason: reason.toString() };
        this.#waiter?.();
        resolve(this.#closed);
      });
    });
    ws.on('error', () => undefined);
  }

  static async connect(url: string, protocols?: string | string[]): Promise<WsCursor> {
    const ws = new WebSocket(url, protocols);
    const cursor = new WsCursor(ws);
    ws.once(
      'upgrade',
      (res: { headers: Record<string, string> }) => (cursor.headers = res.headers),
    );
    await Promise.race([
      once(ws, 'open'),
      once(ws, 'unexpected-response').then((args: unknown[]) => {
        const res = args[1] as { statusCode: number };
        throw new Error(`upgrade refused: HTTP ${res.statusCode}`);
      }),
    ]);
    return cursor;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The next frame, parsed as JSON. */
  async next(timeoutMs = 5000): Promise<any> {
    return JSON.parse(await this.nextText(timeoutMs));
  }

  async nextText(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      if (this.#closed !== undefined) {
        throw new Error(
          `socket closed (${this.#closed.code} ${this.#closed.reason}) while waiting`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#queue.shift()!;
  }

  /** Frames until one matches `predicate` (the others are returned too, for assertions). */
  async until(
    predicate: (frame: any) => boolean,
    timeoutMs = 5000,
  ): Promise<{ match: any; skipped: any[] }> {
    const deadline = Date.now() + timeoutMs;
    const skipped: any[] = [];
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (predicate(frame)) return { match: frame, skipped };
      skipped.push(frame);
    }
  }

  async expectClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#closedPromise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`socket not closed within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  get pending(): number {
    return this.#queue.length;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close();
  }
}

export const INIT_PARAMS = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'test', version: '1' },
};
