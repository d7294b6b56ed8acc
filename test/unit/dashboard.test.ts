// Pure parts of the dashboard: traffic over a window of counter readings (requests/s, errors by
// outcome, p50/p99 from histogram buckets), the live stream's bound on a slow reader, and
// --allow-origin merging into server.allowed_origins.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';
import { EventStream } from '../../src/dashboard/event-stream.js';
import { quantileMs, TrafficWindow } from '../../src/dashboard/traffic.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

function reading(ok: number, error: number, counts: number[]) {
  return { outcomes: { ok, error, timeout: 0 }, bounds: BOUNDS, counts };
}

describe('dashboard traffic window', () => {
  it('gives requests/s, errors by outcome and p50/p99 over the window', () => {
    const w = new TrafficWindow(10);
    w.tick(reading(0, 0, [0, 0, 0, 0, 0]), 0);
    // One second: 98 fast ok, 2 errors of 50 ms.
    const v = w.tick(reading(98, 2, [98, 0, 2, 0, 0]), 1000);
    expect(v.requests_per_s).to.equal(100);
    expect(v.errors).to.deep.equal({ error: 2 });
    expect(v.p50_ms).to.equal(1);
    expect(v.p99_ms).to.equal(100);
    expect(v.total).to.equal(100);
  });

  it('forgets what left the window, and says null when nothing finished', () => {
    const w = new TrafficWindow(2);
    w.tick(reading(0, 0, [0, 0, 0, 0, 0]), 0);
    w.tick(reading(10, 0, [10, 0, 0, 0, 0]), 1000);
    w.tick(reading(10, 0, [10, 0, 0, 0, 0]), 2000);
    const v = w.tick(reading(10, 0, [10, 0, 0, 0, 0]), 3000);
    expect(v.requests_per_s).to.equal(0);
    expect(v.p50_ms).to.equal(null);
    expect(v.total).to.equal(10);
  });

  it('puts the +Inf bucket at the last finite bound', () => {
    expect(quantileMs(BOUNDS, [0, 0, 0, 0, 5], 0.5)).to.equal(1000);
    expect(quantileMs(BOUNDS, [0, 0, 0, 0, 0], 0.5)).to.equal(null);
  });
});

/** A response that records what was written and holds `writableLength` unsent bytes. */
class FakeResponse extends EventEmitter {
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  writes: string[] = [];
  writeHead() {
    return this;
  }
  write(text: string) {
    this.writes.push(text);
    return true;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

describe('dashboard event stream', () => {
  const options = {
    intervalMs: 3_600_000, // the test calls tick() itself
    maxStreams: 2,
    maxBufferedBytes: 100,
    maxSkippedTicks: 3,
    snapshot: () => ({ n: 1 }),
  };
  const req = () => new EventEmitter() as unknown as IncomingMessage;

  it('skips a stream whose socket holds too much, then closes it; others go on', () => {
    const stream = new EventStream(options);
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    stream.serve(req(), slow as unknown as ServerResponse);
    stream.serve(req(), fast as unknown as ServerResponse);
    slow.writableLength = 101;
    stream.tick();
    stream.tick();
    expect(slow.writes).to.have.length(1); // only the first snapshot, on opening
    expect(slow.destroyed).to.equal(false);
    stream.tick();
    expect(slow.destroyed).to.equal(true);
    expect(fast.writes).to.have.length(4);
    expect(stream.size).to.equal(1);
    stream.close();
    expect(fast.writableEnded).to.equal(true);
  });

  it('refuses a stream past maxStreams with connection_limit', () => {
    const stream = new EventStream(options);
    stream.serve(req(), new FakeResponse() as unknown as ServerResponse);
    stream.serve(req(), new FakeResponse() as unknown as ServerResponse);
    let status = 0;
    let body = '';
    const third = {
      writeHead: (s: number) => (status = s),
      end: (b: string) => (body = b),
    } as unknown as ServerResponse;
    stream.serve(req(), third);
    expect(status).to.equal(503);
    expect(JSON.parse(body)).to.include({ reason: 'connection_limit' });
    stream.close();
  });
});

describe('--allow-origin', () => {
  it('adds its origins to server.allowed_origins (no duplicates)', () => {
    const { config } = loadConfig({
      env: { MCPMUX_ALLOWED_ORIGINS: 'http://a.example' },
      args: { allowOrigins: ['http://localhost:5173', 'http://a.example'] },
    });
    expect(config.server.allowed_origins).to.deep.equal([
      'http://a.example',
      'http://localhost:5173',
    ]);
  });
});
