// A fake of what a Session needs of its server (Upstream): an EventEmitter recording every line
// the session writes, and emitting what the "server" writes, routed by kind as MCPClient does.

import { EventEmitter } from 'node:events';
import type { MCPClientEvents } from '../../src/mcp/mcp-client.js';
import { MCPService } from '../../src/mcp/mcp-service.js';
import type { ServiceConfig } from '../../src/config/types.js';
import { fixtureService } from './config.js';

export interface Wire {
  id?: unknown;
  method?: string;
  params?: {
    requestId?: unknown;
    reason?: string;
    name?: string;
    _meta?: { progressToken?: unknown };
  };
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

export class FakeUpstream extends EventEmitter<MCPClientEvents> {
  readonly sessionId = 'fake-session';
  readonly service: MCPService;
  readonly pid = undefined;
  readonly stdinBufferedBytes = 0;
  readonly written: Wire[] = [];
  #nextId = 0;

  constructor(config: ServiceConfig = fixtureService()) {
    super();
    this.service = new MCPService('svc', config);
  }
  nextRequestId(): string {
    return `mcpmux-test-${this.#nextId++}`;
  }
  sendRaw(line: string): boolean {
    this.written.push(JSON.parse(line) as Wire);
    return true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  stop() {
    return Promise.resolve({ code: 0, signal: null, requested: true } as never);
  }
  pauseOutput(): void {}
  resumeOutput(): void {}
  respond(): void {}
  /** The server writes `message` on stdout (already routed by kind, as MCPClient does). */
  emitFromServer(message: Record<string, unknown>): void {
    const line = JSON.stringify({ jsonrpc: '2.0', ...message });
    const kind =
      message.method === undefined
        ? 'response'
        : message.id === undefined
          ? 'notification'
          : 'request';
    this.emit(kind, JSON.parse(line) as never, line);
  }
}
