// Issue 16, what a server can write: one regression test per case. Occasional junk on stdout is
// skipped and counted; sustained junk, a batch, a line over the limit and nesting too deep end
// that session at once with upstream_protocol_error — every request in flight gets it, never a
// request_timeout — while the relay keeps serving (/healthz) with flat memory.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { openChannel, type ChannelDriver, type Mode } from '../helpers/drivers.js';
import { http } from '../helpers/http.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { INIT_PARAMS, startRelay, type TestRelay } from '../helpers/relay.js';
import type { TestConfigOptions } from '../helpers/config.js';

async function handshake(channel: ChannelDriver): Promise<void> {
  channel.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
  expect((await channel.next()).id).to.equal('init');
  channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

/** A 60 s request_timeout: an answer within the test's deadline cannot be a timeout. */
const REQUEST_TIMEOUT_S = 60;

describe('hostile servers (issue 16)', function () {
  let relay: TestRelay | undefined;
  const channels: ChannelDriver[] = [];

  afterEach(async function () {
    for (const c of channels.splice(0)) c.drop();
    await relay?.close();
    relay = undefined;
  });

  async function start(flags: string[] = [], options: TestConfigOptions = {}): Promise<void> {
    relay = await startRelay(
      { fixture: fixtureService(flags, { request_timeout: REQUEST_TIMEOUT_S }) },
      options,
    );
  }

  async function open(mode: Mode = 'direct'): Promise<ChannelDriver> {
    const channel = await openChannel(mode, relay!, 'fixture');
    channels.push(channel);
    await handshake(channel);
    return channel;
  }

  const metric = async (name: string): Promise<number> => {
    const text = (await http(`${relay!.url}/metrics`)).text;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  /**
   * Sends `tool` (which breaks the protocol) beside a slow call on the same session: both are
   * answered with upstream_protocol_error at once, then the channel closes with that reason.
   */
  async function expectProtocolError(channel: ChannelDriver, tool: string, args = {}) {
    const started = Date.now();
    channel.send(toolCall('bystander', 'slow', { ms: 50_000 }));
    channel.send(toolCall('culprit', tool, args));
    const errors = new Map<string, any>();
    while (errors.size < 2) {
      const m = await channel.next(10_000);
      if (m.id === 'culprit' || m.id === 'bystander') errors.set(m.id, m.error);
    }
    for (const error of errors.values()) {
      expect(error.data.reason, JSON.stringify(error)).to.equal('upstream_protocol_error');
      expect(error.code).to.equal(-32000);
    }
    expect(await channel.closed()).to.equal('upstream_protocol_error');
    expect(Date.now() - started).to.be.below(REQUEST_TIMEOUT_S * 1000);
    expect((await http(`${relay!.url}/healthz`)).status).to.equal(200);
    return errors.get('culprit') as { data: Record<string, unknown> };
  }

  it('skips an occasional non-JSON stdout line (a banner), counts it, and carries on', async function () {
    await start(['--stdout-banner']);
    const channel = await open();
    channel.send(toolCall(1, 'junk', { count: 3 }));
    expect(resultText((await channel.until((m) => m.id === 1)).match)).to.equal('junk 3');
    channel.send(toolCall(2, 'echo', { text: 'fine' }));
    expect(resultText((await channel.until((m) => m.id === 2)).match)).to.equal('fine');
    expect(await metric('mcpmux_upstream_junk_lines_total')).to.equal(4);
  });

  it('survives notifications/progress without params and forwards it', async function () {
    await start();
    for (const mode of ['direct', 'mux'] as const) {
      const channel = await open(mode);
      channel.send(toolCall(`p-${mode}`, 'progress-no-params'));
      const { match, skipped } = await channel.until((m) => m.id === `p-${mode}`);
      expect(resultText(match)).to.equal('ok');
      expect(skipped).to.deep.include({ jsonrpc: '2.0', method: 'notifications/progress' });
    }
    // REST requests are MCPClient's own: its progress routing must survive it too.
    const rest = await http(`${relay!.url}/services/fixture/call`, {
      method: 'POST',
      body: { tool: 'progress-no-params', session_id: 'progress-1' },
    });
    expect(rest.status, rest.text).to.equal(200);
    expect(rest.body.result).to.equal('ok');
  });

  it('ends a session flooded with non-JSON lines at once; /healthz answers and memory stays flat', async function () {
    await start();
    const rssBefore = process.memoryUsage().rss;
    const flooded = await open('mux');
    const bystander = await open('direct');
    const error = await expectProtocolError(flooded, 'junk-flood');
    expect(error.data).to.include({ problem: 'sustained_junk' });
    expect(await metric('mcpmux_upstream_junk_lines_total')).to.equal(101);
    bystander.send(toolCall('b', 'echo', { text: 'unaffected' }));
    expect(resultText((await bystander.until((m) => m.id === 'b')).match)).to.equal('unaffected');
    expect(process.memoryUsage().rss - rssBefore).to.be.below(64 * 1024 * 1024);
  });

  it('ends the session at once on a response line over max_message_bytes', async function () {
    await start([], { server: { max_message_bytes: 65536 } });
    const channel = await open();
    const error = await expectProtocolError(channel, 'big-result', { bytes: 100_000 });
    expect(error.data).to.include({ problem: 'line_too_long', limit_bytes: 65536 });
  });

  it('ends the session at once on a JSON-RPC batch from the server', async function () {
    await start();
    const error = await expectProtocolError(await open('mux'), 'batch');
    expect(error.data).to.include({ problem: 'batch' });
  });

  it('ends the session at once on a server message nesting 5,000 levels', async function () {
    await start();
    const error = await expectProtocolError(await open(), 'deep', { depth: 5000 });
    expect(error.data).to.include({ problem: 'too_deep', limit_depth: 128 });
  });

  it('answers a REST call whose server floods junk with 502 upstream_protocol_error', async function () {
    await start();
    const answer = await http(`${relay!.url}/services/fixture/call`, {
      method: 'POST',
      body: { tool: 'junk-flood', session_id: 'flood-1' },
    });
    expect(answer.status, answer.text).to.equal(502);
    expect(answer.body.reason).to.equal('upstream_protocol_error');
    expect(await metric('mcpmux_upstream_protocol_errors_total')).to.equal(1);
  });
});
