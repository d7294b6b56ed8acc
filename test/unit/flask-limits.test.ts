// flask-limiter strings (the SignalWire gateway's rate_limiting keys) and the fixed windows that
// apply them per client and route, on a fake clock.
import { expect } from 'chai';
import fc from 'fast-check';
import { FixedWindows, GatewayLimits, gatewayRouteLimits } from '../../src/http/gateway-limits.js';
import { parseLimit, parseLimits } from '../../src/util/flask-limits.js';

const MIN = 60_000;

describe('flask-limiter strings', () => {
  it('parses the notations of the gateway and its docs', () => {
    const cases: [string, number, number][] = [
      ['10 per minute', 10, MIN],
      ['100/hour', 100, 60 * MIN],
      ['200 per day', 200, 1440 * MIN],
      ['5 per second', 5, 1000],
      ['5 per 2 seconds', 5, 2000],
      ['1/3days', 1, 3 * 1440 * MIN],
      ['  7 PER Minutes ', 7, MIN],
      ['3 per month', 3, 30 * 1440 * MIN],
      ['3 per year', 3, 360 * 1440 * MIN],
      ['4per hour', 4, 60 * MIN],
    ];
    for (const [text, count, windowMs] of cases) {
      expect(parseLimit(text), text).to.deep.include({ count, windowMs });
    }
    expect(parseLimit('10 per minute')!.text).to.equal('10 per 1 minute');
  });

  it('splits several limits on ; , and |, and takes a list', () => {
    const one = parseLimits('5 per second; 100 per day');
    expect(one.ok && one.limits.map((l) => l.count)).to.deep.equal([5, 100]);
    const many = parseLimits(['200 per day', '50 per hour, 1/second|2/minute']);
    expect(many.ok && many.limits.map((l) => l.count)).to.deep.equal([200, 50, 1, 2]);
    expect(parseLimits('')).to.deep.equal({ ok: true, limits: [] });
    expect(parseLimits([])).to.deep.equal({ ok: true, limits: [] });
    expect(parseLimits(' ; ')).to.deep.equal({ ok: true, limits: [] });
  });

  it('refuses what is not a limit, naming the part', () => {
    for (const bad of [
      'ten per minute',
      '10 per fortnight',
      '10 minute',
      '0 per minute',
      '10 per 0 minutes',
      '-1/hour',
      '1.5/hour',
      '10 per minute extra',
    ]) {
      const parsed = parseLimits(`1/hour; ${bad}`);
      expect(parsed.ok, bad).to.equal(false);
      if (!parsed.ok) expect(parsed.error).to.include(JSON.stringify(bad.trim()));
    }
  });

  it('never throws and accepts exactly COUNT per [N] UNIT (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseLimits(text);
        if (parsed.ok) for (const l of parsed.limits) expect(l.count).to.be.at.least(1);
      }),
    );
    const units = fc.constantFrom('second', 'minute', 'hour', 'day', 'month', 'year');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 999 }),
        units,
        (c, n, u) => {
          const limit = parseLimit(`${c} per ${n} ${u}s`);
          expect(limit?.count).to.equal(c);
          expect(limit?.text).to.equal(`${c} per ${n} ${u}`);
        },
      ),
    );
  });
});

describe('fixed windows', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('allows count requests per window from its first request, then refuses until it ends', () => {
    const w = new FixedWindows(
      parseLimit('2 per minute') ? [parseLimit('2 per minute')!] : [],
      clock,
    );
    expect(w.take('a').ok).to.equal(true);
    now += 10_000;
    expect(w.take('a').ok).to.equal(true);
    now += 5_000;
    expect(w.take('a')).to.deep.equal({ ok: false, retryAfterMs: 45_000, limit: '2 per 1 minute' });
    expect(w.take('b').ok, 'another client has its own window').to.equal(true);
    now += 45_000;
    expect(w.take('a').ok, 'a new window').to.equal(true);
  });

  it('needs every limit to allow, reports the longest wait, and does not count refusals', () => {
    const parsed = parseLimits('3 per second; 4 per minute');
    const w = new FixedWindows(parsed.ok ? parsed.limits : [], clock);
    for (let i = 0; i < 3; i++) expect(w.take('a').ok).to.equal(true);
    expect(w.take('a')).to.include({ ok: false, retryAfterMs: 1000 });
    now += 1000;
    expect(w.take('a').ok).to.equal(true); // the 4th of the minute
    const refused = w.take('a');
    expect(refused).to.deep.include({ ok: false, limit: '4 per 1 minute' });
    expect(!refused.ok && refused.retryAfterMs).to.equal(59_000);
  });

  it('forgets clients whose windows ended', () => {
    const w = new FixedWindows([parseLimit('1 per second')!], clock);
    for (let i = 0; i < 50; i++) w.take(`c${i}`);
    expect(w.size).to.equal(50);
    now += 2000;
    w.take('late');
    expect(w.size).to.equal(1);
  });

  it('maps the gateway keys to its routes, default_limits per route', () => {
    const rate = {
      enabled: false,
      requests_per_minute: 600,
      default_limits: ['1 per hour'],
      tools_limit: '2 per minute',
      call_limit: '',
      session_delete_limit: '1/second',
    };
    expect([...gatewayRouteLimits(rate).keys()]).to.have.members([
      'GET /services/{name}/tools',
      'DELETE /sessions/{id}',
      'GET /health',
      'GET /services',
      'GET /sessions',
    ]);
    const limits = new GatewayLimits(rate, clock);
    expect(limits.enabled).to.equal(true);
    expect(limits.take('GET', '/health', 'ip').ok).to.equal(true);
    expect(limits.take('HEAD', '/health', 'ip').ok, 'HEAD is GET').to.equal(false);
    expect(limits.take('GET', '/services', 'ip').ok, 'its own window').to.equal(true);
    for (let i = 0; i < 5; i++)
      expect(limits.take('POST', '/services/{name}/call', 'ip').ok).to.equal(true);
    expect(limits.take('GET', '/metrics', 'ip').ok).to.equal(true);
    const none = { ...rate, default_limits: [], tools_limit: '', session_delete_limit: '' };
    expect(new GatewayLimits(none).enabled).to.equal(false);
  });
});
