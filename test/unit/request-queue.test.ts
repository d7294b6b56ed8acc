import { expect } from 'chai';
import { McpmuxError } from '../../src/errors.js';
import { RequestQueue } from '../../src/sessions/request-queue.js';

/** A job that holds its slot until released, recording how many ran at once. */
function tracker() {
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const releases = new Map<number, () => void>();
  return {
    get peak() {
      return peak;
    },
    order,
    direct: (n: number) => (done: () => void) => {
      running++;
      peak = Math.max(peak, running);
      order.push(n);
      releases.set(n, () => {
        running--;
        done();
      });
    },
    queued: (n: number) => () =>
      new Promise<void>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        order.push(n);
        releases.set(n, () => {
          running--;
          resolve();
        });
      }),
    release(n: number) {
      releases.get(n)!();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RequestQueue', function () {
  it('runs at once while slots are free, then queues, never above concurrency', async function () {
    const q = new RequestQueue('s', { concurrency: 2, queueLimit: 10 });
    const t = tracker();
    expect(q.tryRunNow(t.direct(1))).to.equal(true);
    expect(q.tryRunNow(t.direct(2))).to.equal(true);
    expect(q.tryRunNow(t.direct(3))).to.equal(false);
    const waiting = [3, 4, 5].map((n) => q.run(t.queued(n), new AbortController().signal));
    await tick();
    expect(t.order).to.deep.equal([1, 2]);
    expect(q.stats()).to.include({ running: 2, waiting: 3 });
    t.release(1);
    await tick();
    expect(t.order).to.deep.equal([1, 2, 3]);
    // while jobs wait, a free slot goes to them, not to a newcomer
    expect(q.tryRunNow(t.direct(6))).to.equal(false);
    t.release(2);
    t.release(3);
    await tick();
    t.release(4);
    t.release(5);
    await Promise.all(waiting);
    expect(t.order).to.deep.equal([1, 2, 3, 4, 5]);
    expect(t.peak).to.equal(2);
    expect(q.running).to.equal(0);
    expect(q.tryRunNow(t.direct(7))).to.equal(true);
  });

  it('refuses past queue_limit with queue_full and a retry hint', function () {
    const q = new RequestQueue('s', { concurrency: 1, queueLimit: 1 });
    const t = tracker();
    expect(q.tryRunNow(t.direct(1))).to.equal(true);
    void q.run(t.queued(2), new AbortController().signal);
    let err: unknown;
    try {
      void q.run(t.queued(3), new AbortController().signal);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(McpmuxError);
    expect((err as McpmuxError).reason).to.equal('queue_full');
    expect((err as McpmuxError).data.retry_after_ms).to.be.a('number');
  });

  it('removes a waiting job whose signal aborts; it never runs', async function () {
    const q = new RequestQueue('s', { concurrency: 1, queueLimit: 5 });
    const t = tracker();
    q.tryRunNow(t.direct(1));
    const ac = new AbortController();
    const removed = q.run(t.queued(2), ac.signal);
    ac.abort();
    let rejected = false;
    await removed.catch(() => (rejected = true));
    expect(rejected).to.equal(true);
    t.release(1);
    await tick();
    expect(t.order).to.deep.equal([1]);
    expect(q.stats()).to.include({ running: 0, waiting: 0 });
  });
});
