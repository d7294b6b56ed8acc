// Security log lines (pure apart from a fake clock): sanitised values, redacted URLs, throttling.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../src/log.js';
import { SecurityLog, sanitize } from '../../src/http/security-log.js';

function capture() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', stream }), lines };
}

describe('SecurityLog', function () {
  it('strips control characters and cuts long values', function () {
    expect(sanitize('a\u0000b\nc\u001b[31m\u009b')).to.equal('abc[31m');
    const long = sanitize('x'.repeat(1000));
    expect(long).to.have.length(256);
    expect(long.endsWith('…')).to.equal(true);
  });

  it('logs an event with its fields, the path without its access_token', function () {
    const { logger, lines } = capture();
    new SecurityLog(logger).event('auth_failed', {
      ip: '10.0.0.1',
      path: '/ws?access_token=s3cret&x=1',
      why: 'wrong\nline',
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      security: 'auth_failed',
      ip: '10.0.0.1',
      path: '/ws?access_token=[Redacted]&x=1',
      why: 'wrongline',
      level: 40,
      component: 'security',
    });
  });

  it('folds a flood of one event from one address into one line per 10 s, counting the rest', function () {
    const { logger, lines } = capture();
    let now = 0;
    const log = new SecurityLog(logger, () => now);
    for (let i = 0; i < 50; i++) log.event('rate_limited', { ip: 'a' });
    log.event('rate_limited', { ip: 'b' });
    log.event('session_opened', { ip: 'a' }); // lifecycle events are never folded
    log.event('session_opened', { ip: 'a' });
    expect(lines.map((l) => `${l.security} ${l.ip}`)).to.deep.equal([
      'rate_limited a',
      'rate_limited b',
      'session_opened a',
      'session_opened a',
    ]);
    now = 10_000;
    log.event('rate_limited', { ip: 'a' });
    expect(lines.at(-1)).to.include({ security: 'rate_limited', ip: 'a', suppressed: 49 });
  });
});
