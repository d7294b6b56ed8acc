// MCPService: the configuration of one service, as the rest of mcpmux reads it.

import type { SandboxConfig, ServiceConfig } from '../config/types.js';

export class MCPService {
  readonly name: string;
  readonly config: ServiceConfig;

  constructor(name: string, config: ServiceConfig) {
    if (config.command.length === 0) throw new RangeError(`service ${name}: command is empty`);
    this.name = name;
    this.config = config;
  }

  get command(): readonly string[] {
    return this.config.command;
  }
  get description(): string {
    return this.config.description;
  }
  get enabled(): boolean {
    return this.config.enabled;
  }
  get sandbox(): SandboxConfig {
    return this.config.sandbox;
  }
  get concurrency(): number {
    return this.config.concurrency;
  }
  get queueLimit(): number {
    return this.config.queue_limit;
  }
  get requestTimeoutMs(): number {
    return this.config.request_timeout * 1000;
  }
  get maxRequestTimeMs(): number {
    return this.config.max_request_time * 1000;
  }
  get idleTimeoutMs(): number {
    return this.config.idle_timeout * 1000;
  }

  /** What may be shown to API clients: never the command line or env. */
  describe(): { description: string; enabled: boolean } {
    return { description: this.description, enabled: this.enabled };
  }
}
