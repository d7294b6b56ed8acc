// `loadtest --mode http` against test/fixtures/http-answers.mjs, a Streamable HTTP endpoint that
// answers in every shape the transport allows (chosen by tool name): JSON, a JSON batch, SSE cut in
// 3-character writes with CRLF, a stream without the answer, a wrong content type, a refusal with a
// reason, a server→client request. The fixture also insists on the session id and protocol version
// on every request after initialize, and counts DELETEs.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { runLoad, type LoadSpec } from '../../src/loadtest/engine.js';
import { ROOT } from '../helpers/config.js';
import { loadSpec } from '../helpers/loadtest.js';

const FIXTURE = join(ROOT, 'test/fixtures/http-answers.mjs');
const DEADLINE_MS = 10_000;

function spec(url: string, tool: string, overrides: Partial<LoadSpec> = {}): LoadSpec {
  const counts = { connections: 2, inFlight: 3, requests: 30 };
  const deadlines = { timeoutMs: DEADLINE_MS, connectTimeoutMs: DEADLINE_MS };
  const params = { name: tool, arguments: {} };
  return loadSpec({ mode: 'http', url }, { ...counts, ...deadlines, params, ...overrides });
}

describe('loadtest --mode http: answer shapes (test/fixtures/http-answers.mjs)', function () {
  this.timeout(30_000);
  let child: ChildProcess;
  let base: string;

  beforeEach(async () => {
    child = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit')])) as [string];
    clearTimeout(timer);
    const port = /^listening (\d+)$/.exec(line)?.[1];
    if (port === undefined) throw new Error(`http-answers fixture did not start: ${line}`);
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin!.end(); // the fixture exits on stdin EOF
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  });

  const stats = async () =>
    (await (await fetch(`${base}/stats`)).json()) as { deletes: number; sessions: number };

  for (const tool of ['json', 'batch', 'sse', 'ask']) {
    it(`counts every ${tool} answer once, with session id and version sent, then DELETEs`, async () => {
      const r = await runLoad(spec(`${base}/mcp`, tool));
      expect(r.errors).to.deep.equal({});
      expect(r.ok).to.equal(30);
      expect(r.latencyMs.count).to.equal(30);
      expect(r.unfinished).to.equal(0);
      expect(await stats()).to.deep.equal({ deletes: 2, sessions: 2 });
    });
  }

  it('counts HTTP-level failures by reason', async () => {
    const url = `${base}/mcp`;
    const cases: [string, Record<string, number>][] = [
      ['none', { stream_ended: 6 }],
      ['plain', { bad_content_type: 6 }],
      ['busy', { overloaded: 6 }],
    ];
    for (const [tool, errors] of cases) {
      const r = await runLoad(spec(url, tool, { requests: 6 }));
      expect(r.errors, tool).to.deep.equal(errors);
      expect(r.ok, tool).to.equal(0);
    }
  });
});
