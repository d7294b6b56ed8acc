// The token bucket behind rate_limiting (pure; a fake clock).
import { expect } from 'chai';
import { RateLimiter } from '../../src/http/rate-limit.js';

describe('RateLimiter', function () {
  it('lets a burst of requests_per_minute through, then refuses with the time until the next token', function () {
    let now = 0;
    const limiter = new RateLimiter(60, () => now); // one token per second
    for (let i = 0; i < 60; i++) expect(limiter.take('a').ok, `request ${i}`).to.equal(true);
    const refused = limiter.take('a');
    expect(refused).to.deep.equal({ ok: false, retryAfterMs: 1000 });
    now = 400;
    expect(limiter.take('a')).to.deep.equal({ ok: false, retryAfterMs: 600 });
    now = 1000;
    expect(limiter.take('a').ok).to.equal(true);
    expect(limiter.take('a').ok).to.equal(false);
  });

  it('keeps one bucket per key', function () {
    const now = 0;
    const limiter = new RateLimiter(1, () => now);
    expect(limiter.take('a').ok).to.equal(true);
    expect(limiter.take('a').ok).to.equal(false);
    expect(limiter.take('b').ok).to.equal(true);
  });

  it('refills to capacity, never beyond', function () {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    limiter.take('a');
    now = 3_600_000; // an hour later: still only 2 tokens
    expect(limiter.take('a').ok).to.equal(true);
    expect(limiter.take('a').ok).to.equal(true);
    expect(limiter.take('a').ok).to.equal(false);
  });

  it('forgets buckets that are full again, so memory follows the active clients', function () {
    let now = 0;
    const limiter = new RateLimiter(10, () => now);
    for (let i = 0; i < 100; i++) limiter.take(`client-${i}`);
    expect(limiter.size).to.equal(100);
    now = 61_000;
    limiter.take('newcomer');
    expect(limiter.size).to.equal(1);
  });
});
