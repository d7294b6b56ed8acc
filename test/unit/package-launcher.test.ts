import { expect } from 'chai';
import {
  cachedCommand,
  chooseBin,
  launcherOf,
  parseNpx,
  registryName,
} from '../../src/sandbox/package-launcher.js';

describe('package launchers', function () {
  it('recognises npx, uvx, pipx and bunx by basename, after an optional env', function () {
    expect(launcherOf(['npx', '-y', 'x'])).to.equal('npx');
    expect(launcherOf(['/usr/local/bin/uvx', 'mcp-server-fetch'])).to.equal('uvx');
    expect(launcherOf(['env', 'A=1', 'B=2', 'pipx', 'run', 'x'])).to.equal('pipx');
    expect(launcherOf(['/usr/bin/env', 'bunx', 'x'])).to.equal('bunx');
    expect(launcherOf(['node', 'npx'])).to.equal(undefined);
    expect(launcherOf(['env', '-i', 'npx', 'x'])).to.equal(undefined);
    expect(launcherOf([])).to.equal(undefined);
  });

  it('parses npx: spec, bin, args, a leading env kept', function () {
    expect(parseNpx(['npx', '-y', '@modelcontextprotocol/server-memory'])).to.deep.equal({
      spec: '@modelcontextprotocol/server-memory',
      bin: undefined,
      name: '@modelcontextprotocol/server-memory',
      args: [],
      env: [],
    });
    expect(parseNpx(['env', 'K=v', 'npx', '--yes', 'pkg@1.2.3', '--flag', 'a'])).to.deep.equal({
      spec: 'pkg@1.2.3',
      bin: undefined,
      name: 'pkg',
      args: ['--flag', 'a'],
      env: ['K=v'],
    });
    expect(parseNpx(['npx', '-p', '/tmp/x.tgz', '--', 'srv', '-v'])).to.include({
      spec: '/tmp/x.tgz',
      bin: 'srv',
      name: undefined,
    });
    expect(parseNpx(['npx', '--package=a@2', 'a-cli'])?.args).to.deep.equal([]);
  });

  it('leaves shapes it does not know alone (run as configured)', function () {
    for (const command of [
      ['npx', '--call', 'echo hi'],
      ['npx', '-p', 'a', '-p', 'b', 'x'],
      ['npx', '-y'],
      ['npx', './local/dir'],
      ['npx', '--package='],
      ['node', 'server.js'],
    ]) {
      expect(parseNpx(command), command.join(' ')).to.equal(undefined);
    }
  });

  it('names the package of a registry spec', function () {
    expect(registryName('@scope/name@^1.0.0')).to.equal('@scope/name');
    expect(registryName('name')).to.equal('name');
    expect(registryName('name@latest')).to.equal('name');
    expect(registryName('/abs/path.tgz')).to.equal(undefined);
    expect(registryName('https://example.com/x.tgz')).to.equal(undefined);
  });

  it('chooses the bin npx would run and builds the cached command', function () {
    const npx = parseNpx(['npx', '-y', '@s/server-memory', '--x'])!;
    expect(chooseBin(npx, 'dist/index.js')).to.equal('server-memory');
    expect(chooseBin(npx, { 'mcp-server-memory': 'dist/index.js' })).to.equal('mcp-server-memory');
    expect(chooseBin(npx, { a: '1', 'server-memory': '2' })).to.equal('server-memory');
    expect(chooseBin(npx, { a: '1', b: '2' })).to.equal(undefined);
    expect(cachedCommand(npx, '/c/bin.js')).to.deep.equal(['/c/bin.js', '--x']);
    const withEnv = parseNpx(['env', 'A=1', 'npx', 'p'])!;
    expect(cachedCommand(withEnv, '/c/p.js')).to.deep.equal(['env', 'A=1', '/c/p.js']);
  });
});
