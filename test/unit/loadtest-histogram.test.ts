import { expect } from 'chai';
import { Histogram } from '../../src/loadtest/histogram.js';

/** A deterministic pseudo-random sequence in [0, 1) (a 32-bit LCG), so no run differs. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The exact value at percentile p of sorted values, by the same rank rule as the histogram. */
function exact(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function expectWithin(actual: number, expected: number, relative: number, what: string): void {
  const error = Math.abs(actual - expected) / expected;
  expect(error, `${what}: ${actual} vs ${expected}`).to.be.at.most(relative);
}

describe('loadtest Histogram', () => {
  it('is all zeros when empty', () => {
    const h = new Histogram();
    expect(h.count).to.equal(0);
    expect(h.snapshot()).to.deep.equal({
      count: 0,
      min: 0,
      max: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
    });
  });

  it('counts small values exactly', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).to.equal(50);
    expect(h.percentile(90)).to.equal(90);
    expect(h.percentile(99)).to.equal(99);
    expect(h.min).to.equal(1);
    expect(h.max).to.equal(100);
    expect(h.mean).to.equal(50.5);
  });

  const distributions: [string, (r: () => number) => number][] = [
    ['uniform over 1 µs..10 ms in ns', (r) => 1_000 + r() * 10_000_000],
    ['log-uniform over 10 µs..10 s in ns', (r) => 10_000 * 10 ** (r() * 6)],
    ['exponential, mean 200 µs in ns', (r) => -Math.log(1 - r()) * 200_000],
    [
      'a long tail: 99 % near 50 µs, 1 % near 40 ms',
      (r) => (r() < 0.99 ? 50_000 : 40_000_000) * (1 + r() * 0.1),
    ],
  ];
  for (const [name, draw] of distributions) {
    it(`reports p50/p90/p99/p99.9 within 1 % and max exactly: ${name}`, () => {
      const r = lcg(name.length);
      const h = new Histogram();
      const values: number[] = [];
      for (let i = 0; i < 100_000; i++) {
        const v = Math.round(draw(r));
        values.push(v);
        h.record(v);
      }
      values.sort((a, b) => a - b);
      for (const p of [50, 90, 99, 99.9]) {
        expectWithin(h.percentile(p), exact(values, p), 0.01, `p${p}`);
      }
      expect(h.max).to.equal(values.at(-1));
      expect(h.min).to.equal(values[0]);
      expect(h.percentile(100)).to.equal(values.at(-1));
      expect(h.count).to.equal(values.length);
    });
  }

  it('keeps every power of two and its neighbours in the right bucket', () => {
    for (let bits = 8; bits < 40; bits++) {
      for (const v of [2 ** bits - 1, 2 ** bits, 2 ** bits + 1]) {
        const h = new Histogram();
        h.record(1); // so the exact min does not clamp the answer
        h.record(v);
        h.record(2 ** 41); // clamped to the highest trackable value
        expectWithin(h.percentile(50), v, 0.005, `value ${v}`);
      }
    }
  });

  it('clamps values past the highest trackable one, and negatives and NaN to 0', () => {
    const h = new Histogram(20);
    h.record(10 ** 9);
    h.record(-5);
    h.record(Number.NaN);
    expect(h.max).to.equal(2 ** 20 - 1);
    expect(h.min).to.equal(0);
    expect(h.count).to.equal(3);
  });

  it('records a value several times at once', () => {
    const h = new Histogram();
    h.record(1000, 99);
    h.record(5000, 1);
    expect(h.count).to.equal(100);
    expectWithin(h.percentile(99), 1000, 0.005, 'p99');
    expect(h.percentile(99.5)).to.equal(5000);
  });

  it('merges into the same counts as recording everything in one histogram', () => {
    const r = lcg(7);
    const all = new Histogram();
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 10_000; i++) {
      const v = Math.round(r() * 1e7);
      all.record(v);
      (i % 3 === 0 ? a : b).record(v);
    }
    a.merge(b);
    expect(a.snapshot()).to.deep.equal(all.snapshot());
    expect(() => a.merge(new Histogram(20))).to.throw(RangeError);
  });

  it('forgets everything on reset', () => {
    const h = new Histogram();
    h.record(123_456);
    h.reset();
    expect(h.count).to.equal(0);
    expect(h.percentile(50)).to.equal(0);
    h.record(7);
    expect(h.min).to.equal(7);
  });

  it('scales a snapshot (nanoseconds to milliseconds)', () => {
    const h = new Histogram();
    h.record(2_000_000);
    const s = h.snapshot(1e-6);
    expectWithin(s.p50, 2, 0.005, 'p50 ms');
    expect(s.max).to.equal(2);
  });

  it('refuses a range it cannot hold', () => {
    expect(() => new Histogram(7)).to.throw(RangeError);
    expect(() => new Histogram(53)).to.throw(RangeError);
    expect(() => new Histogram(20.5)).to.throw(RangeError);
  });
});
