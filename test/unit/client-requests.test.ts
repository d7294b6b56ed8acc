// The request machinery over a fake upstream (plain functions recording lines) and fake timers:
// ordering, cancellation, deadlines, progress, waiting on the client, a replaced client.

import { mock } from 'node:test';
import { expect } from 'chai';
import { ClientRequests } from '../../src/sessions/client-requests.js';
import { RequestQueue } from '../../src/sessions/request-queue.js';
import type { JsonRpcRequest } from '../../src/jsonrpc/types.js';

interface Wire {
  id?: unknown;
  method?: string;
  params?: { requestId?: unknown; reason?: string };
  error?: { code: number; message: string; data?: { reason?: string; timeout_ms?: number } };
}

function harness(options: { concurrency?: number; timeoutMs?: number; maxMs?: number } = {}) {
  const upstream: Wire[] = [];
  const client: Wire[] = [];
  const queue = new RequestQueue('svc', {
    concurrency: options.concurrency ?? 4,
    queueLimit: 16,
  });
  const requests = new ClientRequests({
    queue,
    deadlines: {
      requestTimeoutMs: options.timeoutMs ?? 1000,
      maxRequestTimeMs: options.maxMs ?? 5000,
    },
    write: (line) => upstream.push(JSON.parse(line) as Wire),
    toClient: (line) => client.push(JSON.parse(line) as Wire),
  });
  const send = (id: number, method = 'tools/call', token?: string) => {
    const params = token === undefined ? {} : { _meta: { progressToken: token } };
    const message: JsonRpcRequest = { jsonrpc: '2.0', id, method, params };
    return requests.send(message, JSON.stringify(message));
  };
  return { upstream, client, requests, send, queue };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('ClientRequests (fake upstream, fake timers)', function () {
  beforeEach(function () {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  });
  afterEach(function () {
    mock.timers.reset();
  });

  it('times out at request_timeout with request_timeout and cancels upstream', function () {
    const h = harness({ timeoutMs: 1000 });
    h.send(1);
    mock.timers.tick(999);
    expect(h.client).to.have.length(0);
    mock.timers.tick(1);
    expect(h.client[0]!.error!.data!.reason).to.equal('request_timeout');
    expect(h.upstream.at(-1)).to.deep.include({ method: 'notifications/cancelled' });
    expect(h.upstream.at(-1)!.params).to.deep.equal({ requestId: 1, reason: 'request_timeout' });
    expect(h.requests.settle(1, false)).to.equal(false); // the late answer is dropped
  });

  it('restarts request_timeout on progress, up to max_request_time', function () {
    const h = harness({ timeoutMs: 1000, maxMs: 3500 });
    h.send(1, 'tools/call', 'tok');
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(900);
      expect(h.requests.progress('tok')).to.equal(true);
    }
    mock.timers.tick(900); // 3600 ms: past the 1000 ms timeout thrice over, past the cap
    expect(h.client).to.have.length(1);
    expect(h.client[0]!.error!.data).to.include({ reason: 'request_timeout', timeout_ms: 3500 });
    expect(h.client[0]!.error!.message).to.match(/max_request_time/);
  });

  it('lets a progress token be used again once its request ended (fix 1)', function () {
    const h = harness({ timeoutMs: 1000 });
    h.send(1, 'tools/call', 'tok');
    mock.timers.tick(1000); // timed out
    expect(h.requests.progress('tok')).to.equal(false); // late progress of the dead request
    h.send(2, 'tools/call', 'tok');
    expect(h.requests.progress('tok')).to.equal(true);
    h.requests.notify(
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } },
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 2 },
      }),
    );
    expect(h.requests.progress('tok')).to.equal(false);
    h.send(3, 'tools/call', 'tok');
    expect(h.requests.progress('tok')).to.equal(true);
  });

  it('does not time out a request while the server waits on the client, only at max_request_time', function () {
    const h = harness({ timeoutMs: 1000, maxMs: 10_000 });
    h.send(1);
    mock.timers.tick(500);
    h.requests.serverWaiting(true); // e.g. elicitation/create outstanding
    mock.timers.tick(5000);
    expect(h.client).to.have.length(0);
    h.requests.serverWaiting(false); // the client answered: a fresh request_timeout
    mock.timers.tick(999);
    expect(h.client).to.have.length(0);
    mock.timers.tick(1);
    expect(h.client[0]!.error!.data!.reason).to.equal('request_timeout');

    const g = harness({ timeoutMs: 1000, maxMs: 10_000 });
    g.send(1);
    g.requests.serverWaiting(true); // never answered
    mock.timers.tick(9999);
    expect(g.client).to.have.length(0);
    mock.timers.tick(1);
    expect(g.client[0]!.error!.data).to.include({ reason: 'request_timeout', timeout_ms: 10_000 });
  });

  it('frees the slot while the server waits on the client: a request from the handler runs at concurrency 1 (fix 5)', async function () {
    const h = harness({ concurrency: 1 });
    h.send(1); // tools/call holds the only slot
    h.send(2, 'ping'); // waits
    await flush();
    expect(h.upstream.map((m) => m.id)).to.deep.equal([1]);
    h.requests.serverWaiting(true); // the tool asks for sampling; the client pings inside it
    await flush();
    expect(h.upstream.map((m) => m.id)).to.deep.equal([1, 2]);
    expect(h.requests.settle(2, false)).to.equal(true);
    expect(h.requests.settle(1, false)).to.equal(true);
  });

  it('keeps a notification behind the channel’s queued request', async function () {
    const h = harness({ concurrency: 1 });
    h.send(1);
    h.send(2); // queued
    const note = { jsonrpc: '2.0' as const, method: 'notifications/roots/list_changed' };
    h.requests.notify(note, JSON.stringify(note));
    await flush();
    expect(h.upstream.map((m) => m.id ?? m.method)).to.deep.equal([1]);
    h.requests.settle(1, false);
    await flush();
    expect(h.upstream.map((m) => m.id ?? m.method)).to.deep.equal([
      1,
      2,
      'notifications/roots/list_changed',
    ]);
  });

  it('cancels a replaced client’s requests upstream and frees their ids (fix 2)', function () {
    const h = harness();
    h.send(1);
    h.requests.abandonAll();
    expect(h.upstream.at(-1)).to.deep.include({ method: 'notifications/cancelled' });
    expect(h.upstream.at(-1)!.params!.requestId).to.equal(1);
    expect(h.client).to.have.length(0); // nothing for the new client
    expect(h.send(1)).to.equal(true); // the new client's id 1 is not "already in use"
    expect(h.client).to.have.length(0);
    expect(h.requests.size).to.equal(1);
  });
});
