// Micro-bench of the per-service queue's uncontended path (issue 17): the cost per request of
// RequestQueue.run() (p-queue's add(), which starts the job synchronously when a slot is free)
// at 1 and at 32 requests in flight under concurrency 64, i.e. never waiting.
// Run: node --import tsx scripts/bench/queue-bench.ts [path of another RequestQueue to compare]
// (e.g. the side-count queue of dc6b974: git show dc6b974:src/services/request-queue.ts > old.ts,
// with its errors import pointed at src/errors.ts; it is driven through its tryRunNow()).
//
// Result on the 2-core dev box (December 2026, min of 5, ns per request, 1 / 32 in flight):
// floor (a promise, no queue) 551 / 578; p-queue add() 3975 / 4146; old tryRunNow() 643 / 633.
// p-queue costs about 3.4 µs per request more than the side count did.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RequestQueue } from '../../src/sessions/request-queue.js';

const ROUNDS = 200_000;

/** ns per request: `inFlight` jobs held, each released (and a new one started) in turn. */
async function measure(start: (release: (done: () => void) => void) => void, inFlight: number) {
  const held: (() => void)[] = [];
  const one = () => start((done) => held.push(done));
  for (let i = 0; i < inFlight; i++) one();
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    held.shift()!();
    one();
    // Let the slot releases settle (a few microtask hops), as the event loop does between reads.
    if ((i & 15) === 0) await new Promise(setImmediate);
  }
  const ns = ((performance.now() - t0) * 1e6) / ROUNDS;
  for (const done of held.splice(0)) done();
  return ns;
}

function viaRun(q: RequestQueue) {
  return (hold: (done: () => void) => void) =>
    void q.run(() => new Promise<void>((resolve) => hold(resolve)));
}

const results: Record<string, number> = {};
for (const inFlight of [1, 32]) {
  for (let rep = 0; rep < 5; rep++) {
    const ns = await measure(
      (hold) => void new Promise<void>((resolve) => hold(resolve)),
      inFlight,
    );
    const key = `no queue (the floor), ${inFlight} in flight`;
    results[key] = Math.min(results[key] ?? Infinity, ns);
  }
}
for (const inFlight of [1, 32]) {
  for (let rep = 0; rep < 5; rep++) {
    const q = new RequestQueue('bench', { concurrency: 64, queueLimit: 256 });
    const ns = await measure(viaRun(q), inFlight);
    const key = `run() p-queue only, ${inFlight} in flight`;
    results[key] = Math.min(results[key] ?? Infinity, ns);
  }
}
const other = process.argv[2];
if (other !== undefined) {
  const { RequestQueue: Old } = (await import(pathToFileURL(other).href)) as {
    RequestQueue: new (
      s: string,
      o: { concurrency: number; queueLimit: number },
    ) => {
      tryRunNow(job: (done: () => void) => void): boolean;
    };
  };
  for (const inFlight of [1, 32]) {
    for (let rep = 0; rep < 5; rep++) {
      const q = new Old('bench', { concurrency: 64, queueLimit: 256 });
      const ns = await measure((hold) => void q.tryRunNow(hold), inFlight);
      const key = `tryRunNow() side count, ${inFlight} in flight`;
      results[key] = Math.min(results[key] ?? Infinity, ns);
    }
  }
}
for (const [k, v] of Object.entries(results))
  console.log(`${k.padEnd(40)} ${v.toFixed(0)} ns/request`);
