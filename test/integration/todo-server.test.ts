// Integration tests for examples/servers/todo.mjs: a real child process spoken to in raw JSON-RPC lines.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const TODO_SERVER = fileURLToPath(new URL('../../examples/servers/todo.mjs', import.meta.url));
const DEADLINE_MS = 5000;

type Id = string | number;
interface Message {
  jsonrpc?: string;
  id?: Id;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}
interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process speaking newline-delimited JSON-RPC, with per-wait deadlines instead of sleeps. */
class LineRpc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  readonly exited: Promise<ExitInfo>;
  stderr = '';
  exit: ExitInfo | undefined;
  private nextId = 1;
  private buffered = '';
  private readonly waiters = new Set<() => void>();

  constructor(args: string[]) {
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        if (line.trim() !== '') this.messages.push(JSON.parse(line) as Message);
      }
      this.wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.child.stdout.on('end', () => {
      this.wake();
    });
    this.child.stderr.on('end', () => {
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.wake();
      });
    });
  }

  /** True once nothing more can arrive from the child. */
  private finished(): boolean {
    return (
      this.exit !== undefined && this.child.stdout.readableEnded && this.child.stderr.readableEnded
    );
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the first non-undefined value of `check`, re-evaluated on every event from the child. */
  until<T>(check: () => T | undefined, what: string, timeoutMs = DEADLINE_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (this.finished()) {
          cleanup();
          reject(
            new Error(`child exited (${JSON.stringify(this.exit)}) while waiting for ${what}`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      this.waiters.add(attempt);
      attempt();
    });
  }

  send(message: object): void {
    this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  sendRaw(line: string): void {
    this.child.stdin.write(line + '\n');
  }

  response(id: Id, timeoutMs = DEADLINE_MS): Promise<Message> {
    return this.until(
      () => this.messages.find((m) => m.id === id && m.method === undefined),
      `the response to ${JSON.stringify(id)}`,
      timeoutMs,
    );
  }

  request(method: string, params?: object, timeoutMs = DEADLINE_MS): Promise<Message> {
    const id = this.nextId++;
    this.send(
      params === undefined
        ? { jsonrpc: '2.0', id, method }
        : { jsonrpc: '2.0', id, method, params },
    );
    return this.response(id, timeoutMs);
  }

  async callTool(name: string, args: object = {}): Promise<any> {
    const response = await this.request('tools/call', { name, arguments: args });
    expect(response.error, JSON.stringify(response.error)).to.equal(undefined);
    return response.result;
  }

  async initialize(protocolVersion = '2025-06-18'): Promise<Message> {
    const response = await this.request('initialize', {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: 'todo-test', version: '0.0.0' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return response;
  }

  /** Awaits the exit event, with a deadline. */
  waitExit(timeoutMs = DEADLINE_MS): Promise<ExitInfo> {
    return this.until(() => this.exit, 'the process to exit', timeoutMs);
  }

  /** Kills the process if it is still running and awaits its exit. */
  async dispose(): Promise<void> {
    if (this.exit === undefined) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

function textOf(result: any): string {
  expect(result.content).to.be.an('array').with.length.greaterThan(0);
  expect(result.content[0].type).to.equal('text');
  return result.content[0].text as string;
}

describe('examples/servers/todo.mjs', function () {
  let procs: LineRpc[] = [];
  const start = (): LineRpc => {
    const rpc = new LineRpc([TODO_SERVER]);
    procs.push(rpc);
    return rpc;
  };

  afterEach(async function () {
    await Promise.all(procs.map((p) => p.dispose()));
    procs = [];
  });

  it('answers initialize, echoing a supported protocol version', async function () {
    const rpc = start();
    const response = await rpc.initialize('2025-06-18');
    expect(response.jsonrpc).to.equal('2.0');
    expect(response.result.protocolVersion).to.equal('2025-06-18');
    expect(response.result.capabilities).to.deep.equal({ tools: { listChanged: true } });
    expect(response.result.serverInfo).to.deep.equal({ name: 'mcpmux-todo', version: '1.0.0' });
    // The initialized notification gets no reply; a ping afterwards still works.
    const ping = await rpc.request('ping');
    expect(ping.result).to.deep.equal({});
    expect(rpc.messages).to.have.length(2);
  });

  it('answers an unknown protocol version with 2025-11-25', async function () {
    const rpc = start();
    const response = await rpc.initialize('1999-01-01');
    expect(response.result.protocolVersion).to.equal('2025-11-25');
  });

  it('lists the five tools with JSON Schema input schemas', async function () {
    const rpc = start();
    await rpc.initialize();
    const response = await rpc.request('tools/list');
    const tools = response.result.tools as any[];
    expect(tools.map((t): unknown => t.name)).to.deep.equal([
      'add_todo',
      'list_todos',
      'complete_todo',
      'delete_todo',
      'clear_todos',
    ]);
    for (const tool of tools) {
      expect(tool.description).to.be.a('string').that.is.not.empty;
      expect(tool.inputSchema.type).to.equal('object');
      expect(tool.inputSchema.properties).to.be.an('object');
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    const add = byName.get('add_todo');
    expect(add.inputSchema.required).to.deep.equal(['text']);
    expect(add.inputSchema.properties.priority.enum).to.deep.equal(['low', 'medium', 'high']);
    expect(add.inputSchema.properties.priority.default).to.equal('medium');
    expect(byName.get('list_todos').inputSchema.properties.status.enum).to.deep.equal([
      'all',
      'pending',
      'completed',
    ]);
    expect(byName.get('complete_todo').inputSchema.required).to.deep.equal(['id']);
    expect(byName.get('complete_todo').inputSchema.properties.id.type).to.equal('integer');
    expect(byName.get('delete_todo').inputSchema.required).to.deep.equal(['id']);
  });

  it('keeps state across add, list, complete and delete', async function () {
    const rpc = start();
    await rpc.initialize();

    expect(textOf(await rpc.callTool('list_todos'))).to.equal('No todos.');

    const first = await rpc.callTool('add_todo', { text: 'buy milk' });
    expect(textOf(first)).to.equal('Added todo #1: buy milk (priority: medium)');
    expect(first.structuredContent).to.deep.equal({
      todo: { id: 1, text: 'buy milk', priority: 'medium', completed: false },
    });
    expect(first.isError).to.equal(undefined);

    const second = await rpc.callTool('add_todo', { text: 'walk dog', priority: 'high' });
    expect(textOf(second)).to.equal('Added todo #2: walk dog (priority: high)');

    const all = await rpc.callTool('list_todos', { status: 'all' });
    expect(textOf(all)).to.equal('1. [ ] buy milk (medium)\n2. [ ] walk dog (high)');
    expect(all.structuredContent.todos).to.have.length(2);

    const done = await rpc.callTool('complete_todo', { id: 1 });
    expect(done.isError).to.equal(undefined);
    expect(done.structuredContent.todo.completed).to.equal(true);

    expect(textOf(await rpc.callTool('list_todos', { status: 'completed' }))).to.equal(
      '1. [x] buy milk (medium)',
    );
    const pending = await rpc.callTool('list_todos', { status: 'pending' });
    expect(textOf(pending)).to.equal('2. [ ] walk dog (high)');
    expect(pending.structuredContent.todos).to.deep.equal([
      { id: 2, text: 'walk dog', priority: 'high', completed: false },
    ]);

    const deleted = await rpc.callTool('delete_todo', { id: 2 });
    expect(deleted.isError).to.equal(undefined);
    expect(textOf(await rpc.callTool('list_todos'))).to.equal('1. [x] buy milk (medium)');

    const cleared = await rpc.callTool('clear_todos');
    expect(textOf(cleared)).to.match(/^Cleared 1 todo/);
    expect(textOf(await rpc.callTool('list_todos'))).to.equal('No todos.');

    // Ids are not reused after a clear.
    expect(textOf(await rpc.callTool('add_todo', { text: 'again' }))).to.match(/^Added todo #3:/);
  });

  it('reports tool errors as isError results, not JSON-RPC errors', async function () {
    const rpc = start();
    await rpc.initialize();
    for (const [name, args] of [
      ['complete_todo', { id: 42 }],
      ['delete_todo', { id: 42 }],
      ['complete_todo', {}],
      ['add_todo', {}],
      ['add_todo', { text: 'x', priority: 'urgent' }],
      ['list_todos', { status: 'weird' }],
    ] as const) {
      const result = await rpc.callTool(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).to.equal(true);
      expect(textOf(result)).to.be.a('string').that.is.not.empty;
    }
    expect(textOf(await rpc.callTool('complete_todo', { id: 42 }))).to.equal('Todo #42 not found');
  });

  it('answers an unknown tool with -32602 and an unknown method with -32601', async function () {
    const rpc = start();
    await rpc.initialize();
    const unknownTool = await rpc.request('tools/call', { name: 'no_such_tool', arguments: {} });
    expect(unknownTool.result).to.equal(undefined);
    expect(unknownTool.error?.code).to.equal(-32602);
    const unknownMethod = await rpc.request('resources/list');
    expect(unknownMethod.error?.code).to.equal(-32601);
  });

  it('answers a garbage line with -32700 and no id, then keeps working', async function () {
    const rpc = start();
    rpc.sendRaw('this is not json {');
    const parseError = await rpc.until(
      () => rpc.messages.find((m) => m.error?.code === -32700),
      'the parse error',
    );
    expect(parseError).to.not.have.property('id');
    expect(parseError.jsonrpc).to.equal('2.0');
    const ping = await rpc.request('ping');
    expect(ping.result).to.deep.equal({});
  });

  it('ignores unknown notifications and cancellations', async function () {
    const rpc = start();
    await rpc.initialize();
    rpc.send({ jsonrpc: '2.0', method: 'notifications/whatever', params: {} });
    rpc.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } });
    const ping = await rpc.request('ping');
    expect(ping.result).to.deep.equal({});
    // initialize response + ping response, nothing for the notifications.
    expect(rpc.messages).to.have.length(2);
  });

  it('exits 0 on stdin EOF', async function () {
    const rpc = start();
    await rpc.initialize();
    rpc.child.stdin.end();
    const exit = await rpc.waitExit();
    expect(exit).to.deep.equal({ code: 0, signal: null });
  });

  it('exits 0 on SIGTERM', async function () {
    const rpc = start();
    await rpc.initialize(); // the handler is installed once the server answers
    rpc.child.kill('SIGTERM');
    const exit = await rpc.waitExit();
    expect(exit).to.deep.equal({ code: 0, signal: null });
  });

  it('logs one start banner line to stderr and nothing per message', async function () {
    const rpc = start();
    await rpc.initialize();
    await rpc.callTool('add_todo', { text: 'quiet' });
    rpc.child.stdin.end();
    await rpc.waitExit();
    await rpc.until(() => (rpc.child.stderr.readableEnded ? true : undefined), 'stderr to end');
    const lines = rpc.stderr.split('\n').filter((l) => l !== '');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('mcpmux-todo');
  });
});
