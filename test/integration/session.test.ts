// A Session on a real server process, driven directly: what a channel attaching to it is told.

import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import type { SessionSink } from '../../src/sessions/session.js';

describe('Session', function () {
  let relay: TestRelay | undefined;

  afterEach(async function () {
    await relay?.close();
    relay = undefined;
  });

  it('tells a channel that attaches while the server is not reading its stdin to pause', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    const session = await relay.relay.registry.create('fixture', { initialize: true });
    const paused = await session.request(
      'tools/call',
      { name: 'pause-stdin', arguments: { ms: 1000 } },
      5000,
    );
    expect(paused).to.deep.include({ content: [{ type: 'text', text: 'paused' }] });
    // 2 MB while nobody is attached: more than the pipe holds, so the stdin stays full
    const blob = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 8; i++) {
      const message = {
        jsonrpc: '2.0' as const,
        method: 'notifications/test/blob',
        params: { blob },
      };
      session.handle({ kind: 'notification', message }, JSON.stringify(message));
    }
    expect(session.client.stdinBufferedBytes).to.be.greaterThan(0);
    let congested: Promise<void> | undefined;
    const sink: SessionSink = {
      send: () => undefined,
      closed: () => undefined,
      inputCongested: (drained) => {
        congested = drained;
      },
    };
    session.attach(sink);
    expect(congested, 'the new channel was not told to pause').to.be.instanceOf(Promise);
    await congested; // and it may read again once the server has read its stdin
    expect(session.client.stdinBufferedBytes).to.equal(0);
    await session.close('session_closed');
  });
});
