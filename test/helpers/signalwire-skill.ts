// A stand-in for SignalWire's `mcp_gateway` agent skill, written from the calls its documentation
// and source describe (see docs/operations.md, "SignalWire compatibility"), so the tests can drive
// mcpmux the way a real agent does. What it does over HTTP, and nothing else:
//
//   setup()          GET /health without credentials; any failure → not ready
//   registerTools()  GET /services (when no services are configured: every key), then for each
//                    service GET /services/{name}/tools; one tool function per tool, named
//                    <prefix><service>_<tool>, plus the hangup hook; a service whose tools cannot
//                    be listed is skipped
//   callTool()       POST /services/{svc}/call {tool, arguments, session_id, timeout, metadata};
//                    session_id = global_data.mcp_call_id, else call_id, else "unknown".
//                    200 → body.result (or "No response"); 5xx, a timeout or a connection error →
//                    retried at once, up to retryAttempts attempts in all; 4xx → given up at once;
//                    a final failure → "Failed to call <svc>.<tool>: <last error>"
//   hangup()         DELETE /sessions/{session_id}; 200 and 404 are both fine; always
//                    "Session cleanup complete"
//
// Credentials: a Bearer token when one is set, else Basic. Every request is a fresh connection
// (no keep-alive), as the skill's. Each exchange is recorded so a test can see what the skill saw.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface SkillParams {
  gatewayUrl: string;
  authToken?: string;
  authUser?: string;
  authPassword?: string;
  /** `[]`: every service of GET /services; else each with "*" or a list of tool names. */
  services?: { name: string; tools: '*' | string[] }[];
  /** Seconds; sent as each call's `timeout` (the session's idle timeout). */
  sessionTimeout?: number;
  toolPrefix?: string;
  retryAttempts?: number;
  /** Milliseconds per HTTP request. */
  requestTimeoutMs?: number;
  verifySsl?: boolean;
  /** Test-only transport knobs: a CA to trust, the local address to connect from. */
  ca?: string | Buffer;
  localAddress?: string;
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
  /** Set when no answer came (timeout, connection refused). */
  error?: string;
}

export interface SkillTool {
  name: string;
  service: string;
  tool: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

/** What the agent platform hands a tool function: the call's id, maybe a global one. */
export interface RawData {
  call_id?: string;
  global_data?: { mcp_call_id?: string };
  timestamp?: string;
}

export class SkillClient {
  readonly params: Required<
    Omit<SkillParams, 'authToken' | 'authUser' | 'authPassword' | 'ca' | 'localAddress'>
  > &
    SkillParams;
  readonly tools = new Map<string, SkillTool>();
  /** Every HTTP exchange, in order. */
  readonly exchanges: Exchange[] = [];
  readonly hangupHook = { name: '_mcp_gateway_hangup', is_hangup_hook: true };

  constructor(params: SkillParams) {
    this.params = {
      services: [],
      sessionTimeout: 300,
      toolPrefix: 'mcp_',
      retryAttempts: 3,
      requestTimeoutMs: 30_000,
      verifySsl: true,
      ...params,
      gatewayUrl: params.gatewayUrl.replace(/\/$/, ''),
    };
  }

  /** The skill's setup(): credentials present and /health answering. */
  async setup(): Promise<boolean> {
    const { authToken, authUser, authPassword } = this.params;
    if (!authToken && !(authUser && authPassword)) return false;
    const health = await this.#send('GET', '/health', undefined, false);
    return health.status === 200;
  }

  /** The skill's register_tools(). */
  async registerTools(): Promise<string[]> {
    let services = this.params.services;
    if (services.length === 0) {
      const listed = await this.#send('GET', '/services');
      if (listed.status !== 200) return [];
      services = Object.keys(listed.body as object).map((name) => ({ name, tools: '*' as const }));
    }
    for (const { name, tools: wanted } of services) {
      const answer = await this.#send('GET', `/services/${encodeURIComponent(name)}/tools`);
      if (answer.status !== 200) continue; // tolerated: the service is skipped
      for (const tool of (answer.body?.tools ?? []) as any[]) {
        if (typeof tool?.name !== 'string') continue;
        if (wanted !== '*' && !wanted.includes(tool.name)) continue;
        const fn = `${this.params.toolPrefix}${name}_${tool.name}`;
        this.tools.set(fn, {
          name: fn,
          service: name,
          tool: tool.name,
          description: `[${name}] ${tool.description ?? tool.name}`,
          parameters: convertSchema(tool.inputSchema),
        });
      }
    }
    return [...this.tools.keys()];
  }

  /** Runs a registered tool function as the platform would: the text the agent gets. */
  async callTool(fn: string, args: Record<string, unknown>, raw: RawData): Promise<string> {
    const tool = this.tools.get(fn);
    if (tool === undefined) throw new Error(`no tool function ${fn}`);
    const body = {
      tool: tool.tool,
      arguments: args,
      session_id: sessionIdOf(raw),
      timeout: this.params.sessionTimeout,
      metadata: { agent_id: 'test-agent', timestamp: raw.timestamp, call_id: raw.call_id },
    };
    let lastError = 'unknown error';
    for (let attempt = 0; attempt < this.params.retryAttempts; attempt++) {
      const path = `/services/${encodeURIComponent(tool.service)}/call`;
      const answer = await this.#send('POST', path, body);
      if (answer.status === 200) {
        const result: unknown = answer.body?.result;
        if (result === undefined || result === null || result === '') return 'No response';
        return typeof result === 'string' ? result : JSON.stringify(result);
      }
      lastError =
        answer.error ?? `HTTP ${answer.status}: ${String(answer.body?.error ?? 'no body')}`;
      const retry = answer.error !== undefined || answer.status >= 500;
      if (!retry) break;
    }
    return `Failed to call ${tool.service}.${tool.tool}: ${lastError}`;
  }

  /** The hangup hook. */
  async hangup(raw: RawData): Promise<string> {
    await this.#send('DELETE', `/sessions/${encodeURIComponent(sessionIdOf(raw))}`);
    return 'Session cleanup complete';
  }

  /** Exchanges whose path starts with `prefix` (e.g. '/services/todo/call'). */
  sent(prefix: string): Exchange[] {
    return this.exchanges.filter((e) => e.path.startsWith(prefix));
  }

  #authHeader(): string | undefined {
    const { authToken, authUser, authPassword } = this.params;
    if (authToken) return `Bearer ${authToken}`;
    if (authUser && authPassword) {
      return `Basic ${Buffer.from(`${authUser}:${authPassword}`).toString('base64')}`;
    }
    return undefined;
  }

  #send(method: string, path: string, body?: unknown, auth = true): Promise<Exchange> {
    const url = this.params.gatewayUrl + path;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
    const authorization = auth ? this.#authHeader() : undefined;
    if (authorization !== undefined) headers.authorization = authorization;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const secure = url.startsWith('https:');
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<Exchange>((resolve) => {
      const done = (exchange: Exchange) => {
        this.exchanges.push(exchange);
        resolve(exchange);
      };
      const req = send(url, {
        method,
        headers,
        agent: false,
        ...(this.params.localAddress !== undefined && { localAddress: this.params.localAddress }),
        ...(secure && { rejectUnauthorized: this.params.verifySsl }),
        ...(secure && this.params.ca !== undefined && { ca: this.params.ca }),
      });
      const failed = (err: Error) =>
        done({ method, path, status: 0, headers: {}, body: undefined, error: err.message });
      req.setTimeout(this.params.requestTimeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', failed);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', failed);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          done({ method, path, status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      });
      req.end(payload);
    });
  }
}

function sessionIdOf(raw: RawData): string {
  return raw.global_data?.mcp_call_id ?? raw.call_id ?? 'unknown';
}

/** The skill keeps type, description, enum and (for optional ones) default; nesting is dropped. */
function convertSchema(schema: any): SkillTool['parameters'] {
  const properties: Record<string, unknown> = {};
  const required: string[] = Array.isArray(schema?.required) ? schema.required : [];
  for (const [key, prop] of Object.entries((schema?.properties ?? {}) as Record<string, any>)) {
    const p: Record<string, unknown> = {
      type: prop?.type ?? 'string',
      description: prop?.description ?? '',
    };
    if (prop?.enum !== undefined) p.enum = prop.enum;
    if (prop?.default !== undefined && !required.includes(key)) p.default = prop.default;
    properties[key] = p;
  }
  return { type: 'object', properties, required };
}
