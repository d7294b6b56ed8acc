// The Host check (pure): the DNS-rebinding guard's defaults per listen address, allowed_hosts
// entries, and what is refused.
import { expect } from 'chai';
import { isLoopbackHost } from '../../src/config/security.js';
import { HostPolicy } from '../../src/http/host-check.js';

describe('HostPolicy', function () {
  it('on a loopback listener allows only the loopback names, any port', function () {
    for (const listen of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      const policy = new HostPolicy([], listen);
      expect(policy.checking, listen).to.equal(true);
      for (const host of [
        'localhost',
        'localhost:8100',
        '127.0.0.1:1',
        '[::1]:8100',
        'LOCALHOST',
      ]) {
        expect(policy.allows(host), `${listen} ${host}`).to.equal(true);
      }
      for (const host of ['evil.example:8100', 'evil.example', '127.0.0.1.evil.example', '']) {
        expect(policy.allows(host), `${listen} ${host}`).to.equal(false);
      }
      expect(policy.allows(undefined), 'no Host').to.equal(false);
    }
  });

  it('refuses the DNS-rebinding request: Origin and Host both the attacker name', function () {
    // the Origin check alone counts Origin http://evil.example:8100 + Host evil.example:8100 as
    // same-origin; the Host check refuses it on a loopback relay
    expect(new HostPolicy([], '127.0.0.1').allows('evil.example:8100')).to.equal(false);
  });

  it('on a non-loopback listener checks nothing unless allowed_hosts is set', function () {
    for (const listen of ['0.0.0.0', '::', '10.1.2.3', 'relay.internal']) {
      const open = new HostPolicy([], listen);
      expect(open.checking, listen).to.equal(false);
      expect(open.allows('10.1.2.3:8100')).to.equal(true);
      expect(open.allows(undefined)).to.equal(true);
    }
    const listed = new HostPolicy(['relay.example.com'], '0.0.0.0');
    expect(listed.allows('relay.example.com')).to.equal(true);
    expect(listed.allows('Relay.Example.com:443')).to.equal(true);
    expect(listed.allows('localhost:8100')).to.equal(true); // the loopback names always
    expect(listed.allows('evil.example')).to.equal(false);
  });

  it('reads name:port and [v6] entries, "*" turns the check off, bad entries are reported', function () {
    const policy = new HostPolicy(['api.example.com:8443', '[fd00::1]', 'bad/entry'], '127.0.0.1');
    expect(policy.allows('api.example.com:8443')).to.equal(true);
    expect(policy.allows('api.example.com:8100')).to.equal(false);
    expect(policy.allows('api.example.com')).to.equal(false);
    expect(policy.allows('[fd00::1]:8100')).to.equal(true);
    expect(policy.invalid).to.deep.equal(['bad/entry']);
    const any = new HostPolicy(['*'], '127.0.0.1');
    expect(any.checking).to.equal(false);
    expect(any.allows('evil.example')).to.equal(true);
  });

  it('knows the loopback addresses and names', function () {
    for (const h of [
      '127.0.0.1',
      '127.9.9.9',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).to.equal(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      'example.com',
      '128.0.0.1',
      'localhost.example.com',
    ]) {
      expect(isLoopbackHost(h), h).to.equal(false);
    }
  });
});
