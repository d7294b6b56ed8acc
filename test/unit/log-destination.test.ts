// The log destination never holds the process: a full disk drops lines (counted) and flush still
// returns; a broken pipe ends logging for good; the queue is bounded; flushWithin keeps its deadline.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LogDestination } from '../../src/log-destination.js';

/** `dest.flush`, awaited under a deadline (a flush that never calls back fails the test). */
async function flushed(dest: LogDestination, ms = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => dest.flush(() => resolve())),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`flush did not call back in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('LogDestination', function () {
  it('appends to a file and flushes', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'mcpmux-log-'));
    try {
      const dest = new LogDestination(join(dir, 'sub', 'relay.log'));
      dest.write('one\n');
      dest.write('two\n');
      await flushed(dest);
      dest.close();
      expect(readFileSync(join(dir, 'sub', 'relay.log'), 'utf8')).to.equal('one\ntwo\n');
      expect(dest.dropped).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops what a full disk (/dev/full) refuses, keeps accepting, and flush still calls back', async function () {
    const dest = new LogDestination('/dev/full');
    for (let i = 0; i < 10; i++) dest.write(`line ${i}\n`);
    await flushed(dest);
    expect(dest.dropped).to.be.greaterThan(0);
    expect(dest.broken).to.equal(false); // ENOSPC may pass: later lines are tried again
    dest.write('later\n');
    await flushed(dest);
    dest.close();
  });

  it('stops logging for good when the reader of its pipe has gone (EPIPE)', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'mcpmux-log-'));
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).to.equal(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    closeSync(reader); // the reader is gone
    try {
      const dest = new LogDestination(writer);
      dest.write('into the void\n');
      await flushed(dest);
      expect(dest.broken).to.equal(true);
      dest.write('after\n');
      await flushed(dest);
      expect(dest.dropped).to.be.greaterThanOrEqual(2);
      dest.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bounds its queue in bytes: lines past the bound are dropped', async function () {
    const dest = new LogDestination('/dev/null', 64);
    for (let i = 0; i < 100; i++) dest.write('x'.repeat(31) + '\n');
    expect(dest.dropped).to.be.greaterThan(90);
    await flushed(dest);
    dest.close();
  });
});
