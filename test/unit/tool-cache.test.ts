import { expect } from 'chai';
import { silentLogger } from '../../src/log.js';
import type { Tool } from '../../src/mcp/mcp-helpers.js';
import {
  cacheHintMs,
  MAX_TTL_MS,
  MIN_TTL_MS,
  ToolCache,
  type ToolListing,
} from '../../src/sessions/tool-cache.js';

/** A fetch the test answers by hand: each call waits until resolved or rejected. */
function manualFetch() {
  const calls: { resolve: (l: ToolListing) => void; reject: (e: Error) => void }[] = [];
  const fetch = () =>
    new Promise<ToolListing>((resolve, reject) => {
      calls.push({ resolve, reject });
    });
  return { calls, fetch };
}

const tools = (...names: string[]): Tool[] => names.map((name) => ({ name }));
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ToolCache (stale-while-revalidate)', function () {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 0;
  });

  it('shares the first fill, then answers from cache without fetching', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    const a = cache.get('s');
    const b = cache.get('s');
    expect(calls).to.have.length(1);
    calls[0]!.resolve({ tools: tools('x') });
    expect(await a).to.deep.equal(tools('x'));
    expect(await b).to.equal(await a);
    now = 10 * MAX_TTL_MS; // no hint: never expires
    expect(await cache.get('s')).to.deep.equal(tools('x'));
    expect(calls).to.have.length(1);
  });

  it('after invalidate serves the stale list at once and refreshes it once in the background', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    const first = cache.get('s');
    calls[0]!.resolve({ tools: tools('old') });
    await first;
    cache.invalidate('s');
    expect(await cache.get('s'), 'stale, at once').to.deep.equal(tools('old'));
    expect(await cache.get('s')).to.deep.equal(tools('old'));
    expect(calls, 'one refresh for both reads').to.have.length(2);
    calls[1]!.resolve({ tools: tools('new') });
    await flush();
    expect(await cache.get('s')).to.deep.equal(tools('new'));
    expect(calls).to.have.length(2);
  });

  it('a list invalidated while its fetch runs is stored stale and refreshed on the next read', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    const first = cache.get('s');
    cache.invalidate('s');
    calls[0]!.resolve({ tools: tools('a') });
    expect(await first).to.deep.equal(tools('a'));
    expect(await cache.get('s')).to.deep.equal(tools('a'));
    expect(calls, 'the read refreshed the list').to.have.length(2);
  });

  it('honours the ttl hint: fresh before it, stale (served, refreshed) after it', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    const first = cache.get('s');
    calls[0]!.resolve({ tools: tools('a'), ttlMs: 5000 });
    await first;
    now = 4999;
    await cache.get('s');
    expect(calls).to.have.length(1);
    now = 5000;
    expect(await cache.get('s')).to.deep.equal(tools('a'));
    expect(calls).to.have.length(2);
  });

  it('keeps the last good list when a refresh fails; a failed first fill is retried', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    const first = cache.get('s');
    calls[0]!.reject(new Error('spawn failed'));
    let failed = false;
    await first.catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect(cache.has('s')).to.equal(false);
    const second = cache.get('s');
    expect(calls, 'retried on demand').to.have.length(2);
    calls[1]!.resolve({ tools: tools('a') });
    await second;
    cache.invalidate('s');
    await cache.get('s');
    calls[2]!.reject(new Error('boom'));
    await flush();
    expect(await cache.get('s')).to.deep.equal(tools('a'));
  });

  it('preload fills in the background and swallows a failure', async function () {
    const { calls, fetch } = manualFetch();
    const cache = new ToolCache({ fetch, logger: silentLogger(), now: clock });
    cache.preload('s');
    calls[0]!.reject(new Error('no'));
    await flush();
    cache.preload('s');
    calls[1]!.resolve({ tools: tools('a') });
    await flush();
    expect(cache.has('s')).to.equal(true);
  });

  it('reads the hint from _meta.ttlMs or ttlMs, clamped; ignores anything else', function () {
    expect(cacheHintMs({ tools: [], _meta: { ttlMs: 60000 } })).to.equal(60000);
    expect(cacheHintMs({ tools: [], ttlMs: 2000 })).to.equal(2000);
    expect(cacheHintMs({ tools: [], _meta: { ttlMs: 1 } })).to.equal(MIN_TTL_MS);
    expect(cacheHintMs({ tools: [], _meta: { ttlMs: 1e12 } })).to.equal(MAX_TTL_MS);
    for (const bad of [null, 3, { tools: [] }, { _meta: null }, { _meta: { ttlMs: '5' } }]) {
      expect(cacheHintMs(bad)).to.equal(undefined);
    }
    expect(cacheHintMs({ _meta: { ttlMs: -1 } })).to.equal(undefined);
    expect(cacheHintMs({ _meta: { ttlMs: Infinity } })).to.equal(undefined);
  });
});
