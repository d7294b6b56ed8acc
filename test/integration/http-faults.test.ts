// Issue 16: no promise chain of the HTTP side is left without its rejection path. A route handler
// that throws before its first await is answered 500 like one that rejects; an upgrade whose
// preparation fails is refused with 500; a fault while a WebSocket frame is handled closes that
// connection alone (1011). The root hook fails a test if the process sees any of these unhandled.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { createHttpServer, type HttpHandlers } from '../../src/http/http-server.js';
import { guarded } from '../../src/endpoints/ws-direct.js';
import { Router } from '../../src/http/routes.js';
import { silentLogger } from '../../src/log.js';
import { testConfig } from '../helpers/config.js';
import { http, refusedUpgrade } from '../helpers/http.js';
import { WsCursor } from '../helpers/relay.js';

describe('HTTP side: faults are answered, never unhandled (issue 16)', function () {
  let server: Server | undefined;
  const faults: unknown[] = [];

  afterEach(async function () {
    faults.length = 0;
    await new Promise<void>((resolve) => {
      if (server === undefined) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
    server = undefined;
  });

  /** An HTTP server on 127.0.0.1:0 with a router holding two broken routes. */
  async function start(overrides: Partial<HttpHandlers> = {}): Promise<string> {
    const router = new Router();
    router.onError((err) => faults.push(err));
    router
      .add({
        method: 'GET',
        pattern: /^\/throws$/,
        handler: () => {
          throw new TypeError('a synchronous throw');
        },
      })
      .add({
        method: 'GET',
        pattern: /^\/rejects$/,
        handler: () => Promise.reject(new Error('a rejection')),
      });
    const config = testConfig({});
    config.cleanup();
    const handlers: HttpHandlers = {
      request: (req, res, url) => router.handle(req, res, url),
      checkUpgrade: () => undefined,
      prepare: () => Promise.resolve({ context: undefined, headers: [] }),
      abandon: () => undefined,
      connection: (ws) => {
        ws.on(
          'message',
          guarded(ws, silentLogger(), () => {
            throw new RangeError('Maximum call stack size exceeded');
          }),
        );
      },
      ...overrides,
    };
    const created = createHttpServer(config, handlers);
    server = created.server;
    await new Promise<void>((resolve) => created.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(created.server.address() as AddressInfo).port}`;
  }

  it('answers 500 internal_error for a handler that throws synchronously or rejects', async function () {
    const url = await start();
    for (const path of ['/throws', '/rejects']) {
      const answer = await http(url + path);
      expect(answer.status, path).to.equal(500);
      expect(answer.body).to.deep.equal({
        error: 'internal relay error',
        reason: 'internal_error',
      });
    }
    expect(faults).to.have.length(2);
  });

  it('refuses an upgrade with 500 when its preparation fails', async function () {
    const url = await start({ prepare: () => Promise.reject(new Error('prepare failed')) });
    const answer = await refusedUpgrade(`${url.replace(/^http/, 'ws')}/ws`, {
      'Sec-WebSocket-Protocol': 'mcpmux.v1',
    });
    expect(answer.status).to.equal(500);
    expect(answer.body.reason).to.equal('internal_error');
  });

  it('closes only the connection whose frame could not be handled, with 1011', async function () {
    const url = (await start()).replace(/^http/, 'ws');
    const broken = await WsCursor.connect(`${url}/ws`, 'mcpmux.v1');
    const other = await WsCursor.connect(`${url}/ws`, 'mcpmux.v1');
    broken.send('{}');
    expect((await broken.expectClose()).code).to.equal(1011);
    expect(other.ws.readyState).to.equal(other.ws.OPEN);
    other.close();
    await other.expectClose();
  });
});
