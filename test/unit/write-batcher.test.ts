// The writes one event-loop turn makes leave in one writev: the relay's stdin and WebSocket
// writes (WriteBatcher) and the load generator's sends (batching), observed on a real Writable.

import { expect } from 'chai';
import { Writable } from 'node:stream';
import { batching } from '../../src/loadtest/connect.js';
import { WriteBatcher } from '../../src/util/write-batcher.js';

/** A Writable that records each system-call-sized write it is handed: one entry per call. */
function recorder(): { stream: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _enc, cb) {
      calls.push([chunk]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => c.chunk as string));
      cb();
    },
  });
  return { stream, calls };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  it('sends the writes of one turn in one writev, in order', async () => {
    const { stream, calls } = recorder();
    const batcher = new WriteBatcher();
    for (const line of ['a\n', 'b\n', 'c\n']) batcher.write(stream, line);
    expect(calls).to.deep.equal([]);
    await nextTurn();
    expect(calls).to.deep.equal([['a\n', 'b\n', 'c\n']]);
  });

  it('starts a new batch in the next turn', async () => {
    const { stream, calls } = recorder();
    const batcher = new WriteBatcher();
    batcher.write(stream, '1');
    await nextTurn();
    batcher.write(stream, '2');
    batcher.write(stream, '3');
    await nextTurn();
    expect(calls).to.deep.equal([['1'], ['2', '3']]);
  });

  it("'loop' also joins the writes of separate callbacks of one event-loop iteration", async () => {
    const turn = recorder();
    const loop = recorder();
    const byTurn = new WriteBatcher();
    const byLoop = new WriteBatcher('loop');
    // two timers due at once run in one timers phase, each its own callback (as two connections'
    // reads are in one poll phase); nextTicks run between them, immediates after both
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        byTurn.write(turn.stream, 'a');
        byLoop.write(loop.stream, 'a');
      }, 0);
      setTimeout(() => {
        byTurn.write(turn.stream, 'b');
        byLoop.write(loop.stream, 'b');
        expect(loop.calls).to.deep.equal([]);
        resolve();
      }, 0);
    });
    await nextTurn();
    expect(turn.calls).to.deep.equal([['a'], ['b']]);
    expect(loop.calls).to.deep.equal([['a', 'b']]);
  });

  it('flush() writes out at once', () => {
    const { stream, calls } = recorder();
    const batcher = new WriteBatcher();
    batcher.write(stream, 'x');
    batcher.write(stream, 'y');
    batcher.flush();
    expect(calls).to.deep.equal([['x', 'y']]);
  });
});

describe('load generator write coalescing', () => {
  it('coalesces one turn of sends into one write when asked', async () => {
    const { stream, calls } = recorder();
    const send = batching(stream, { coalesce: true })((text) => stream.write(text));
    for (let i = 0; i < 32; i++) send(`m${i}`);
    await nextTurn();
    expect(calls).to.have.length(1);
    expect(calls[0]).to.have.length(32);
  });

  it('writes each message on its own when not asked', async () => {
    const { stream, calls } = recorder();
    const send = batching(stream, { coalesce: false })((text) => stream.write(text));
    for (let i = 0; i < 32; i++) send(`m${i}`);
    await nextTurn();
    expect(calls).to.have.length(32);
  });
});
