// Test helpers that own MCPClients and make sure each is stopped after its test.

import { MCPClient, type MCPClientOptions } from '../../src/mcp/mcp-client.js';
import { MCPService } from '../../src/mcp/mcp-service.js';
import type { ServiceConfig } from '../../src/config/types.js';
import { testConfig } from './config.js';

export class ClientPool {
  readonly #clients: MCPClient[] = [];
  readonly #cleanups: (() => void)[] = [];

  /** A new, not yet started client for `service`, stopped by close(). */
  client(
    config: ServiceConfig,
    options: Partial<MCPClientOptions> = {},
    name = 'fixture',
  ): MCPClient {
    const cfg = testConfig({ [name]: config });
    this.#cleanups.push(cfg.cleanup);
    const client = new MCPClient(new MCPService(name, config), {
      sandboxDir: cfg.session.sandbox_dir,
      stopGraceMs: 300,
      ...options,
    });
    this.#clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.splice(0).map((c) => c.stop()));
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}

/** The text of the first content item of a tools/call result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content;
  const first = content?.[0];
  if (first?.type !== 'text' || typeof first.text !== 'string') {
    throw new Error(`no text content in ${JSON.stringify(result)}`);
  }
  return first.text;
}

/** Rejects after `ms` with `message` unless `promise` settles first. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
