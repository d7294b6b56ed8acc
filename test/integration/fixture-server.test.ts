// Smoke test of test/fixtures/server.mjs, the stdio MCP fixture the relay tests are built on.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const FIXTURE = fileURLToPath(new URL('../fixtures/server.mjs', import.meta.url));
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
      clientInfo: { name: 'fixture-test', version: '0.0.0' },
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

describe('test/fixtures/server.mjs', function () {
  let procs: LineRpc[] = [];
  const start = (...flags: string[]): LineRpc => {
    const rpc = new LineRpc([FIXTURE, ...flags]);
    procs.push(rpc);
    return rpc;
  };

  afterEach(async function () {
    await Promise.all(procs.map((p) => p.dispose()));
    procs = [];
  });

  it('initializes and echoes', async function () {
    const rpc = start();
    const init = await rpc.initialize('2025-03-26');
    expect(init.result).to.deep.equal({
      protocolVersion: '2025-03-26',
      capabilities: { tools: { listChanged: true }, logging: {} },
      serverInfo: { name: 'fixture', version: '1.0.0' },
    });
    expect(textOf(await rpc.callTool('echo', { text: 'hello' }))).to.equal('hello');
    const unknown = await rpc.request('tools/call', { name: 'nope', arguments: {} });
    expect(unknown.error?.code).to.equal(-32602);
    expect((await rpc.request('prompts/list')).error?.code).to.equal(-32601);
    expect((await rpc.request('logging/setLevel', { level: 'debug' })).result).to.deep.equal({});
  });

  it('paginates tools/list with --page-size', async function () {
    const rpc = start('--page-size=10');
    await rpc.initialize();
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rpc.request('tools/list', cursor === undefined ? {} : { cursor });
      pages++;
      expect(page.result.tools.length).to.be.at.most(10);
      names.push(...page.result.tools.map((t: { name: string }) => t.name));
      cursor = page.result.nextCursor;
    } while (cursor !== undefined);
    expect(pages).to.be.greaterThan(1);
    expect(names).to.include.members(['echo', 'slow', 'sample', 'stderr']);
    expect(new Set(names).size).to.equal(names.length);
    const bad = await rpc.request('tools/list', { cursor: 'not-a-cursor' });
    expect(bad.error?.code).to.equal(-32602);
  });

  it('never answers a cancelled slow call and records its id', async function () {
    const rpc = start();
    await rpc.initialize();
    rpc.send({
      jsonrpc: '2.0',
      id: 'slow-1',
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 200, text: 'too late' } },
    });
    rpc.send({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'slow-1', reason: 'test' },
    });
    // A later, longer call: once it has answered, the cancelled one would have answered too.
    rpc.send({
      jsonrpc: '2.0',
      id: 'slow-2',
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 400, text: 'on time' } },
    });
    expect(textOf(await rpc.callTool('cancelled-ids'))).to.equal('["slow-1"]');
    expect(textOf((await rpc.response('slow-2')).result)).to.equal('on time');
    expect(rpc.messages.filter((m) => m.id === 'slow-1')).to.deep.equal([]);
  });

  it('sends progress notifications for a progressToken, then replies', async function () {
    const rpc = start();
    await rpc.initialize();
    rpc.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'progress', arguments: { steps: 3, ms: 5 }, _meta: { progressToken: 'p-7' } },
    });
    const reply = await rpc.response(7);
    expect(textOf(reply.result)).to.equal('done 3');
    const progress = rpc.messages.filter((m) => m.method === 'notifications/progress');
    expect(progress.map((m): unknown => m.params)).to.deep.equal(
      [1, 2, 3].map((i) => ({
        progressToken: 'p-7',
        progress: i,
        total: 3,
        message: `step ${i} of 3`,
      })),
    );
    // Every progress notification precedes the reply.
    expect(rpc.messages.indexOf(reply)).to.be.greaterThan(rpc.messages.indexOf(progress[2]!));
  });

  it('round-trips sampling/createMessage through the client', async function () {
    const rpc = start();
    await rpc.initialize();
    const call = rpc.request('tools/call', { name: 'sample', arguments: { prompt: 'say hi' } });
    const first = await rpc.until(
      () => rpc.messages.find((m) => m.method === 'sampling/createMessage'),
      'the sampling request',
    );
    expect(first.id).to.equal(0);
    expect(first.params).to.deep.equal({
      messages: [{ role: 'user', content: { type: 'text', text: 'say hi' } }],
      maxTokens: 100,
    });
    rpc.send({
      jsonrpc: '2.0',
      id: first.id,
      result: {
        role: 'assistant',
        content: { type: 'text', text: 'hi there' },
        model: 'test-model',
        stopReason: 'endTurn',
      },
    });
    expect(textOf((await call).result)).to.equal('hi there');

    // The fixture's own id counter moves on; an error answer is reported in the text.
    const second = rpc.request('tools/call', { name: 'sample', arguments: { prompt: 'again' } });
    const request = await rpc.until(
      () => rpc.messages.find((m) => m.method === 'sampling/createMessage' && m.id === 1),
      'the second sampling request',
    );
    rpc.send({ jsonrpc: '2.0', id: request.id, error: { code: -32603, message: 'no model' } });
    expect(textOf((await second).result)).to.equal('sampling error: no model');
  });

  it('exits with the requested code on crash', async function () {
    const rpc = start();
    await rpc.initialize();
    rpc.send({
      jsonrpc: '2.0',
      id: 'crash-1',
      method: 'tools/call',
      params: { name: 'crash', arguments: { code: 5 } },
    });
    const exit = await rpc.waitExit();
    expect(exit).to.deep.equal({ code: 5, signal: null });
    await rpc.until(
      () => (rpc.stderr.includes('crashing now') ? true : undefined),
      'crash message',
    );
    expect(rpc.messages.filter((m) => m.id === 'crash-1')).to.deep.equal([]);
  });

  it('exits on start with --exit-on-start', async function () {
    const rpc = start('--exit-on-start=4');
    expect(await rpc.waitExit()).to.deep.equal({ code: 4, signal: null });
    await rpc.until(() => (rpc.stderr.includes('exiting on start') ? true : undefined), 'message');
  });

  it('exits 0 on stdin EOF after the in-flight reply is written', async function () {
    const rpc = start('--banner');
    await rpc.until(() => (rpc.stderr.includes('fixture ready pid=') ? true : undefined), 'banner');
    rpc.send({
      jsonrpc: '2.0',
      id: 'eof-1',
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 50, text: 'last' } },
    });
    rpc.child.stdin.end();
    expect(await rpc.waitExit()).to.deep.equal({ code: 0, signal: null });
    expect(textOf((await rpc.response('eof-1')).result)).to.equal('last');
  });

  it('survives SIGTERM with --trap-sigterm and dies on SIGKILL', async function () {
    const rpc = start('--trap-sigterm');
    await rpc.initialize(); // the SIGTERM handler is installed before stdin is read
    rpc.child.kill('SIGTERM');
    await rpc.until(
      () => (rpc.stderr.includes('sigterm ignored') ? true : undefined),
      'the sigterm message',
    );
    expect(textOf(await rpc.callTool('echo', { text: 'still here' }))).to.equal('still here');
    expect(rpc.exit).to.equal(undefined);
    rpc.child.kill('SIGKILL');
    expect(await rpc.waitExit()).to.deep.equal({ code: null, signal: 'SIGKILL' });
  });
});
