// The browser Origin policy (pure): same-origin, allowed_origins patterns, and what is refused.
import { expect } from 'chai';
import { OriginPolicy } from '../../src/http/origin.js';

describe('OriginPolicy', function () {
  it('lets requests without an Origin through (non-browser clients)', function () {
    expect(new OriginPolicy([]).allows(undefined, 'relay:8100')).to.equal(true);
  });

  it('allows the same origin: host and port equal to the Host header, default ports normalised', function () {
    const policy = new OriginPolicy([]);
    expect(policy.allows('http://relay.example:8100', 'relay.example:8100')).to.equal(true);
    expect(policy.allows('https://relay.example', 'relay.example')).to.equal(true);
    expect(policy.allows('https://relay.example', 'relay.example:443')).to.equal(true);
    expect(policy.allows('http://RELAY.example:8100', 'relay.example:8100')).to.equal(true);
    expect(policy.allows('http://relay.example:8101', 'relay.example:8100')).to.equal(false);
    expect(policy.allows('http://other.example:8100', 'relay.example:8100')).to.equal(false);
    expect(policy.allows('http://relay.example:8100', undefined)).to.equal(false);
  });

  it('matches exact origins, wildcard ports and subdomains', function () {
    const policy = new OriginPolicy([
      'https://app.example.com',
      'http://localhost:*',
      'https://*.corp.test',
      'http://127.0.0.1:3000/',
    ]);
    const host = 'relay:8100';
    for (const ok of [
      'https://app.example.com',
      'https://app.example.com:443',
      'http://localhost',
      'http://localhost:5173',
      'https://a.corp.test',
      'https://a.b.corp.test',
      'http://127.0.0.1:3000',
    ]) {
      expect(policy.allows(ok, host), ok).to.equal(true);
    }
    for (const bad of [
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://localhost:5173',
      'https://corp.test',
      'https://a.corp.test:8443',
      'https://evilcorp.test',
      'https://corp.test.evil.net',
      'http://127.0.0.1:3001',
      'null',
      'file://',
      'garbage',
    ]) {
      expect(policy.allows(bad, host), bad).to.equal(false);
    }
    expect(policy.listed('http://localhost:1')).to.equal(true);
    expect(policy.listed('http://relay:8100')).to.equal(false);
  });

  it('allows any origin with "*", and reports entries it cannot read', function () {
    expect(new OriginPolicy(['*']).allows('https://anything.example', 'relay')).to.equal(true);
    const policy = new OriginPolicy(['localhost:3000', 'ftp://x', 'http://a/b']);
    expect(policy.invalid).to.deep.equal(['localhost:3000', 'ftp://x', 'http://a/b']);
  });
});
