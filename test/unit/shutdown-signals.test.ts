// SIGTERM/SIGINT handling (pure apart from an injected timer): a clean close exits 0 after a
// bounded flush; a close past its budget is cut short by the deadline (servers killed, exit 1); a
// second signal kills the servers and exits 1 at once; exit is called once.
import { expect } from 'chai';
import { LOG_FLUSH_MS, signalHandler, type ShutdownDeps } from '../../src/shutdown-signals.js';

interface Fake {
  deps: ShutdownDeps;
  exits: number[];
  kills: number;
  flushes: number[];
  timers: { fn: () => void; ms: number; cancelled: boolean }[];
  finishClose: (err?: Error) => void;
}

function fake(budgetMs = 5000): Fake {
  let finishClose!: (err?: Error) => void;
  const closed = new Promise<void>((resolve, reject) => {
    finishClose = (err) => (err === undefined ? resolve() : reject(err));
  });
  const f: Fake = {
    exits: [],
    kills: 0,
    flushes: [],
    timers: [],
    finishClose: (err) => finishClose(err),
    deps: undefined as unknown as ShutdownDeps,
  };
  const quiet = () => undefined;
  f.deps = {
    close: () => closed,
    budgetMs,
    killAll: () => f.kills++,
    flushWithin: (ms) => {
      f.flushes.push(ms);
      return Promise.resolve();
    },
    exit: (code) => f.exits.push(code),
    log: { info: quiet, warn: quiet, error: quiet },
    timer: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      f.timers.push(t);
      return () => (t.cancelled = true);
    },
  };
  return f;
}

/** Lets the promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('signalHandler', function () {
  it('exits 0 once the relay is closed, after a flush of at most LOG_FLUSH_MS', async function () {
    const f = fake();
    signalHandler(f.deps)('SIGTERM');
    await settle();
    expect(f.exits).to.deep.equal([]); // still closing
    f.finishClose();
    await settle();
    expect(f.exits).to.deep.equal([0]);
    expect(f.flushes).to.deep.equal([LOG_FLUSH_MS]);
    expect(f.timers[0]!.cancelled).to.equal(true);
    expect(f.kills).to.equal(0);
  });

  it('arms the deadline at the budget plus the flush time, under the 1 s slack', function () {
    const f = fake(5000);
    signalHandler(f.deps)('SIGINT');
    expect(f.timers).to.have.length(1);
    expect(f.timers[0]!.ms).to.equal(5000 + LOG_FLUSH_MS);
  });

  it('past the deadline: servers killed, exit 1 after a flush that ends within the slack', async function () {
    const f = fake(5000);
    signalHandler(f.deps)('SIGTERM');
    f.timers[0]!.fn(); // close() never finished
    await settle();
    expect(f.kills).to.equal(1);
    expect(f.exits).to.deep.equal([1]);
    expect(LOG_FLUSH_MS + f.flushes[0]!).to.be.below(1000);
    f.finishClose(); // a late close changes nothing
    await settle();
    expect(f.exits).to.deep.equal([1]);
  });

  it('a second signal kills the servers and exits 1 at once', async function () {
    const f = fake();
    const onSignal = signalHandler(f.deps);
    onSignal('SIGTERM');
    onSignal('SIGTERM');
    expect(f.kills).to.equal(1);
    expect(f.exits).to.deep.equal([1]);
    f.finishClose();
    await settle();
    expect(f.exits).to.deep.equal([1]);
  });

  it('a failed close exits 1', async function () {
    const f = fake();
    signalHandler(f.deps)('SIGTERM');
    f.finishClose(new Error('boom'));
    await settle();
    expect(f.exits).to.deep.equal([1]);
  });
});
