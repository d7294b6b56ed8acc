// REST calls on the shared request lifecycle, against the real fixture server: progress from the
// tool extends a call's request_timeout (as for a WebSocket client's request), and a tool that asks
// the client something during a REST call gets an answer at once (no_client) instead of hanging.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { http } from '../helpers/http.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import type { ServiceConfig } from '../../src/config/types.js';

describe('REST calls on the shared request lifecycle', function () {
  let relay: TestRelay | undefined;

  afterEach(async function () {
    await relay?.close();
    relay = undefined;
  });

  async function start(fixture: ServiceConfig): Promise<TestRelay> {
    relay = await startRelay({ fixture });
    return relay;
  }
  const call = (body: Record<string, unknown>) =>
    http(`${relay!.url}/services/fixture/call`, { method: 'POST', body });

  it('lets a tool reporting progress run past request_timeout (progress restarts it)', async function () {
    await start(fixtureService([], { request_timeout: 2 }));
    // 4 steps 1 s apart: 4 s in all, twice the 2 s request_timeout, never 2 s without progress
    const answer = await call({
      tool: 'progress',
      arguments: { steps: 4, ms: 1000 },
      session_id: 'p',
    });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.result).to.equal('done 4');
  });

  it('answers a server request during a call at once: sampling, elicitation, roots get no_client, ping {}', async function () {
    await start(fixtureService([], { request_timeout: 30 }));
    const asked = async (tool: string, args: Record<string, unknown> = {}) => {
      const answer = await call({ tool, arguments: args, session_id: 'q' });
      expect(answer.status, answer.text).to.equal(200);
      return answer.body.result as string;
    };
    const noClient = (method: string) =>
      `error: no MCP client is behind this session (a REST call) to answer ${method}`;
    expect(await asked('sample', { prompt: 'hi' })).to.equal(
      `sampling ${noClient('sampling/createMessage')}`,
    );
    expect(await asked('elicit', { message: 'name?' })).to.equal(
      `elicitation ${noClient('elicitation/create')}`,
    );
    expect(await asked('roots')).to.equal(`roots ${noClient('roots/list')}`);
    expect(await asked('ping-client')).to.equal('pong');
  });
});
