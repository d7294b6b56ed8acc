// A raw Streamable HTTP client for tests that need exact HTTP: one request over node:http whose
// answer is read as SSE events (or as a whole body), each awaited under a deadline.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { requestBody } from './http.js';

export interface SseEvent {
  id: string | undefined;
  data: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** An open HTTP answer: its status and headers, and its body read as SSE events. */
export class RawAnswer {
  readonly res: IncomingMessage;
  readonly #events: SseEvent[] = [];
  #partial = '';
  #text = '';
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(res: IncomingMessage) {
    this.res = res;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.#text += chunk;
      this.#partial += chunk;
      let cut: number;
      while ((cut = this.#partial.indexOf('\n\n')) >= 0) {
        const block = this.#partial.slice(0, cut);
        this.#partial = this.#partial.slice(cut + 2);
        this.#events.push(parseEvent(block));
      }
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }
  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  /** The next event with data (priming events, with empty data, are skipped). */
  async next(timeoutMs = 5000): Promise<SseEvent & { message: any }> {
    for (;;) {
      const e = await this.nextEvent(timeoutMs);
      if (e.data !== '') return { ...e, message: JSON.parse(e.data) };
    }
  }

  /** The next event, priming events included. */
  async nextEvent(timeoutMs = 5000): Promise<SseEvent> {
    await this.#until(() => this.#events.length > 0, timeoutMs, 'no SSE event');
    return this.#events.shift()!;
  }

  /** The whole body once the answer has ended. */
  async body(timeoutMs = 5000): Promise<string> {
    await this.#until(() => false, timeoutMs, 'the answer did not end', true);
    return this.#text;
  }

  /** Resolves once the answer has ended (the relay closed the stream). */
  async ended(timeoutMs = 5000): Promise<void> {
    await this.#until(() => false, timeoutMs, 'the stream did not end', true);
  }

  close(): void {
    this.res.destroy();
  }

  async #until(ready: () => boolean, ms: number, what: string, endOk = false): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (this.#ended) {
        if (endOk) return;
        throw new Error(`${what}: the answer ended`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

function parseEvent(block: string): SseEvent {
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return { id, data: data.join('\n') };
}

/** Sends one request; resolves with its answer as soon as the headers are in. */
export function rawRequest(url: string, options: RawOptions = {}): Promise<RawAnswer> {
  const { payload, headers } = requestBody(options);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('response', (res) => resolve(new RawAnswer(res)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const ACCEPT_BOTH = 'application/json, text/event-stream';

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: { sampling: {} },
    clientInfo: { name: 'raw', version: '1' },
  },
};

/**
 * A test's raw Streamable HTTP traffic against one relay: requests by service, the sessions it
 * opened (DELETEd by cleanup()) and the answers it holds (closed by cleanup()).
 */
export class McpHttpTester {
  readonly #base: () => string;
  readonly opened: { service: string; id: string }[] = [];
  readonly answers: RawAnswer[] = [];
  /** Headers sent with every request (auth). */
  headers: Record<string, string> = {};

  constructor(base: () => string) {
    this.#base = base;
  }

  async send(service: string, options: RawOptions): Promise<RawAnswer> {
    const headers = { ...this.headers, ...options.headers };
    const answer = await rawRequest(`${this.#base()}/mcp/${service}`, { ...options, headers });
    this.answers.push(answer);
    return answer;
  }

  /** initialize (+ notifications/initialized): the session id. */
  async init(service = 'fx', accept = 'application/json'): Promise<string> {
    const answer = await this.send(service, {
      method: 'POST',
      headers: { accept },
      body: INITIALIZE,
    });
    if (answer.status !== 200) throw new Error(`initialize: HTTP ${answer.status}`);
    const id = answer.headers['mcp-session-id'] as string;
    this.opened.push({ service, id });
    await answer.ended();
    const ack = await this.post(
      id,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      service,
    );
    if (ack.status !== 202) throw new Error(`notifications/initialized: HTTP ${ack.status}`);
    return id;
  }

  post(id: string | undefined, message: unknown, service = 'fx', accept = ACCEPT_BOTH) {
    const headers: Record<string, string> = { accept, 'mcp-protocol-version': '2025-11-25' };
    if (id !== undefined) headers['mcp-session-id'] = id;
    return this.send(service, { method: 'POST', headers, body: message });
  }

  get(id: string, headers: Record<string, string> = {}, service = 'fx') {
    return this.send(service, {
      headers: {
        accept: 'text/event-stream',
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-11-25',
        ...headers,
      },
    });
  }

  delete(id: string, service = 'fx') {
    return this.send(service, { method: 'DELETE', headers: { 'mcp-session-id': id } });
  }

  async cleanup(): Promise<void> {
    for (const a of this.answers.splice(0)) a.close();
    for (const { service, id } of this.opened.splice(0)) await this.delete(id, service);
    for (const a of this.answers.splice(0)) a.close();
  }
}

export async function jsonOf(answer: RawAnswer): Promise<any> {
  return JSON.parse(await answer.body());
}
