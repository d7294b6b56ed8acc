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

/** Adds job n; true when it started at once, inside run() (the uncontended path). */
function runsNow(q: RequestQueue, t: ReturnType<typeof tracker>, n: number): boolean {
  const before = t.order.length;
  void q.run(t.queued(n));
  return t.order.length > before && t.order.at(-1) === n;
}

describe('RequestQueue', function () {
  it('runs at once while slots are free, then queues, never above concurrency', async function () {
    const q = new RequestQueue('s', { concurrency: 2, queueLimit: 10 });
    const t = tracker();
    expect(q.hasFreeSlot).to.equal(true);
    expect(runsNow(q, t, 1)).to.equal(true);
    expect(runsNow(q, t, 2)).to.equal(true);
    expect(q.hasFreeSlot).to.equal(false);
    const waiting = [3, 4, 5].map((n) =>
      q.run(t.queued(n), { signal: new AbortController().signal }),
    );
    await tick();
    expect(t.order).to.deep.equal([1, 2]);
    expect(q.stats()).to.include({ running: 2, waiting: 3 });
    t.release(1);
    await tick();
    expect(t.order).to.deep.equal([1, 2, 3]);
    // while jobs wait, a free slot goes to them, not to a newcomer
    expect(q.hasFreeSlot).to.equal(false);
    t.release(2);
    t.release(3);
    await tick();
    t.release(4);
    t.release(5);
    await Promise.all(waiting);
    expect(t.order).to.deep.equal([1, 2, 3, 4, 5]);
    expect(t.peak).to.equal(2);
    await tick();
    expect(q.running).to.equal(0);
    expect(runsNow(q, t, 7)).to.equal(true);
  });

  it('refuses past queue_limit with queue_full and a retry hint', function () {
    const q = new RequestQueue('s', { concurrency: 1, queueLimit: 1 });
    const t = tracker();
    expect(runsNow(q, t, 1)).to.equal(true);
    void q.run(t.queued(2), { signal: new AbortController().signal });
    let err: unknown;
    try {
      void q.run(t.queued(3), { signal: new AbortController().signal });
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
    runsNow(q, t, 1);
    const ac = new AbortController();
    const removed = q.run(t.queued(2), { signal: ac.signal });
    ac.abort();
    let rejected = false;
    await removed.catch(() => (rejected = true));
    expect(rejected).to.equal(true);
    t.release(1);
    await tick();
    expect(t.order).to.deep.equal([1]);
    expect(q.stats()).to.include({ running: 0, waiting: 0 });
  });

  it('is fair between sessions: a lower in-flight count (higher priority) goes first', async function () {
    const q = new RequestQueue('s', { concurrency: 1, queueLimit: 10 });
    const t = tracker();
    runsNow(q, t, 1);
    // session A already has 1..3 in flight when it adds 10, 11, 12; session B adds 20 with none
    const jobs = [
      q.run(t.queued(10), { priority: -1 }),
      q.run(t.queued(11), { priority: -2 }),
      q.run(t.queued(12), { priority: -3 }),
      q.run(t.queued(20), { priority: 0 }),
    ];
    for (const n of [1, 20, 10, 11]) {
      t.release(n);
      await tick();
    }
    t.release(12);
    await Promise.all(jobs);
    expect(t.order).to.deep.equal([1, 20, 10, 11, 12]);
  });
});
