// The dashboard's HTTP side against a real relay: the page is served without credentials and
// turned off by server.dashboard: false; GET /events is behind auth and pushes snapshots in which
// a session opened by a WebSocket client appears and ends; GET /ws without Upgrade says why an
// upgrade would be refused; listed origins may read Retry-After; a refused upgrade's 429 body
// carries retry_after_ms.
import { request } from 'node:http';
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { bearer, connectWs, http, refusedUpgrade } from '../helpers/http.js';
import { INIT_PARAMS, startRelay, type TestRelay } from '../helpers/relay.js';

const TOKEN = 'dash-token';

/** Reads GET /events: snapshots one by one, each awaited under a deadline. */
async function openEvents(url: string, headers: Record<string, string>) {
  const queue: any[] = [];
  let wake: (() => void) | undefined;
  let buffer = '';
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(url + '/events', { headers }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      if (data !== undefined) queue.push(JSON.parse(data.slice(6)));
      wake?.();
    }
  });
  return {
    res,
    /** The next snapshot satisfying `predicate`, within `timeoutMs`. */
    async until(predicate: (s: any) => boolean, timeoutMs = 8000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = queue.shift();
        if (s !== undefined && predicate(s)) return s;
        if (s !== undefined) continue;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching snapshot within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    },
    close: () => res.destroy(),
  };
}

describe('dashboard over HTTP', () => {
  let relay: TestRelay;
  afterEach(async () => relay?.close());

  it('serves the page and its files without credentials, with a same-origin CSP', async () => {
    relay = await startRelay({ fixture: fixtureService() }, { server: { auth_token: TOKEN } });
    const page = await http(relay.url + '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.headers['content-security-policy']).to.contain("script-src 'self'");
    expect(page.text).to.contain('/dashboard/app.js');
    expect(page.text).not.to.contain('fixture'); // the page holds no data
    const js = await http(relay.url + '/dashboard/app.js');
    expect(js.status).to.equal(200);
    expect(js.headers['content-type']).to.match(/^text\/javascript/);
    expect((await http(relay.url + '/dashboard/secret.js')).status).to.equal(404);
    expect((await http(relay.url + '/events')).status).to.equal(401);
  });

  it('is off with server.dashboard: false', async () => {
    relay = await startRelay({ fixture: fixtureService() }, { server: { dashboard: false } });
    expect((await http(relay.url + '/')).status).to.equal(404);
    expect((await http(relay.url + '/events')).status).to.equal(404);
  });

  it('pushes snapshots where a WebSocket session appears, works, and ends', async () => {
    relay = await startRelay({ fixture: fixtureService() }, { server: { auth_token: TOKEN } });
    const events = await openEvents(relay.url, bearer(TOKEN));
    try {
      expect(events.res.headers['content-type']).to.match(/^text\/event-stream/);
      const first = await events.until(() => true);
      expect(first.services.map((s: any) => s.name)).to.deep.equal(['fixture']);
      expect(JSON.stringify(first)).not.to.contain('server.mjs'); // never a command line
      const ws = await connectWs(relay.ws('/ws'), 'mcpmux.v1', { headers: bearer(TOKEN) });
      ws.send({ type: 'open', channel: 'c', service: 'fixture' });
      const { session } = await ws.next();
      const msg = (id: number, method: string, params: object) => ({
        type: 'message',
        channel: 'c',
        message: { jsonrpc: '2.0', id, method, params },
      });
      ws.send(msg(1, 'initialize', INIT_PARAMS));
      await ws.next();
      ws.send(msg(2, 'tools/call', { name: 'echo', arguments: { text: 'x' } }));
      await ws.next();
      const live = await events.until((s) =>
        s.sessions.some((x: any) => x.id === session && x.service === 'fixture'),
      );
      expect(live.services[0].sessions).to.equal(1);
      const busy = await events.until((s) => s.services[0].traffic.total >= 2);
      expect(busy.services[0].traffic.requests_per_s).to.be.above(0);
      ws.send({ type: 'close', channel: 'c' });
      await events.until((s) => s.sessions.length === 0 && s.services[0].sessions === 0);
      ws.ws.close();
    } finally {
      events.close();
    }
  });

  it('shows the warm spares of a service beside its sessions', async () => {
    relay = await startRelay(
      { fixture: fixtureService([], { warm_spares: 1 }) },
      { server: { auth_token: TOKEN } },
    );
    const events = await openEvents(relay.url, bearer(TOKEN));
    try {
      const ready = await events.until((s) => s.services[0].spares === 1);
      expect(ready.services[0].sessions).to.equal(0); // a spare is no session until one opens
    } finally {
      events.close();
    }
  });

  it('answers GET /ws without Upgrade with the reason an upgrade would be refused', async () => {
    relay = await startRelay(
      { fixture: fixtureService() },
      { server: { auth_token: TOKEN, allowed_origins: ['http://listed.example'] } },
    );
    const ws = relay.url + '/ws';
    const noToken = await http(ws);
    expect([noToken.status, noToken.body.reason]).to.deep.equal([401, 'unauthorized']);
    const ok = await http(`${ws}?access_token=${TOKEN}`);
    expect([ok.status, ok.body.status]).to.deep.equal([200, 'ok']);
    const unknown = await http(`${ws}?access_token=${TOKEN}&service=nope`);
    expect([unknown.status, unknown.body.reason]).to.deep.equal([404, 'unknown_service']);
    const foreign = await http(`${ws}?access_token=${TOKEN}`, {
      headers: { origin: 'http://evil.example' },
    });
    expect([foreign.status, foreign.body.reason]).to.deep.equal([403, 'forbidden_origin']);
    expect(foreign.headers['access-control-allow-origin']).to.equal('*'); // the page may read why
    const listed = await http(`${relay.url}/services`, {
      headers: { origin: 'http://listed.example', ...bearer(TOKEN) },
    });
    expect(listed.headers['access-control-allow-origin']).to.equal('http://listed.example');
    expect(listed.headers['access-control-expose-headers']).to.match(/retry-after/i);
  });

  it('puts retry_after_ms in the body of a rate-limited upgrade', async () => {
    relay = await startRelay(
      { fixture: fixtureService() },
      { rate_limiting: { enabled: true, requests_per_minute: 1 } },
    );
    const first = await connectWs(relay.ws('/ws'), 'mcpmux.v1');
    const refused = await refusedUpgrade(relay.ws('/ws'));
    expect(refused.status).to.equal(429);
    expect(refused.headers['retry-after']).to.match(/^\d+$/);
    expect(refused.body.retry_after_ms).to.be.a('number').above(0);
    first.ws.close();
  });
});
