// The official SDK clients over Streamable HTTP behind one shape, so each Streamable HTTP test runs
// against SDK v1 (@modelcontextprotocol/sdk StreamableHTTPClientTransport) and SDK v2
// (@modelcontextprotocol/client), plus a fetch that drops a call's SSE answer after its first
// chunk (a lost connection) and records the GETs that resume it.
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';

export type SdkVersion = 'v1' | 'v2';

export interface CallOptions {
  timeout: number;
  onprogress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface HttpMcpClient {
  readonly sessionId: string | undefined;
  listTools(timeout: number): Promise<string[]>;
  callTool(name: string, args: Record<string, unknown>, options: CallOptions): Promise<unknown>;
  onSampling(handler: (prompt: string) => string): void;
  onElicit(handler: () => Record<string, unknown>): void;
  /** DELETE /mcp/{service}: ends the session. */
  terminate(): Promise<void>;
  close(): Promise<void>;
}

/** Fast reconnects, so a resume test waits for the relay, not for a back-off. */
const RECONNECT = {
  initialReconnectionDelay: 10,
  maxReconnectionDelay: 50,
  reconnectionDelayGrowFactor: 1,
  maxRetries: 5,
};

type Fetch = typeof fetch;

export async function connectHttp(
  version: SdkVersion,
  url: string,
  options: { fetch?: Fetch; headers?: Record<string, string> } = {},
): Promise<HttpMcpClient> {
  const opts = {
    reconnectionOptions: RECONNECT,
    ...(options.fetch !== undefined && { fetch: options.fetch }),
    ...(options.headers !== undefined && { requestInit: { headers: options.headers } }),
  };
  const info = { name: `shttp-${version}`, version: '1.0.0' };
  const capabilities = { capabilities: { sampling: {}, elicitation: {} } };
  if (version === 'v1') {
    const transport = new TransportV1(new URL(url), opts);
    const client = new ClientV1(info, capabilities);
    await client.connect(transport);
    return {
      get sessionId() {
        return transport.sessionId;
      },
      listTools: async (timeout) =>
        (await client.listTools(undefined, { timeout })).tools.map((t) => t.name),
      callTool: (name, args, o) => client.callTool({ name, arguments: args }, undefined, o),
      onSampling: (handler) =>
        client.setRequestHandler(CreateMessageRequestSchema, (request) => ({
          model: 'test-model',
          role: 'assistant' as const,
          content: {
            type: 'text' as const,
            text: handler(JSON.stringify(request.params.messages)),
          },
        })),
      onElicit: (handler) =>
        client.setRequestHandler(ElicitRequestSchema, () => ({
          action: 'accept' as const,
          content: handler() as Record<string, string>,
        })),
      terminate: () => transport.terminateSession(),
      close: () => client.close(),
    };
  }
  const transport = new TransportV2(new URL(url), opts);
  const client = new ClientV2(info, capabilities);
  await client.connect(transport);
  return {
    get sessionId() {
      return transport.sessionId;
    },
    listTools: async (timeout) =>
      (await client.listTools(undefined, { timeout })).tools.map((t) => t.name),
    callTool: (name, args, o) => client.callTool({ name, arguments: args }, o),
    onSampling: (handler) =>
      client.setRequestHandler('sampling/createMessage', (request) => ({
        model: 'test-model',
        role: 'assistant' as const,
        content: { type: 'text' as const, text: handler(JSON.stringify(request.params.messages)) },
      })),
    onElicit: (handler) =>
      client.setRequestHandler('elicitation/create', () => ({
        action: 'accept' as const,
        content: handler() as Record<string, string>,
      })),
    terminate: () => transport.terminateSession(),
    close: () => client.close(),
  };
}

/**
 * A fetch whose next tools/call answer (SSE) delivers its first chunk and then fails as a lost
 * connection would (the relay sees its socket close); `resumes` records each GET's Last-Event-ID.
 */
export function droppingFetch(): { fetch: Fetch; arm(): void; resumes: (string | null)[] } {
  let armed = false;
  const resumes: (string | null)[] = [];
  const wrapped: Fetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET') resumes.push(new Headers(init?.headers).get('last-event-id'));
    const res = await fetch(input, init);
    const body = typeof init?.body === 'string' ? init.body : '';
    const sse = res.headers.get('content-type')?.startsWith('text/event-stream') === true;
    if (!armed || !sse || !body.includes('"tools/call"') || res.body === null) return res;
    armed = false;
    const reader = res.body.getReader();
    const dropped = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        await reader.cancel(); // closes the HTTP connection under the stream
        controller.error(new TypeError('terminated: connection lost (test)'));
      },
    });
    return new Response(dropped, { status: res.status, headers: res.headers });
  };
  return { fetch: wrapped, arm: () => (armed = true), resumes };
}
