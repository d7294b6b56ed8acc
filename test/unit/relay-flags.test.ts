// The Node flags the relay runs with: the mcpmux command's shebang carries them, npm start passes
// the same ones, and the bench reads them from the shebang (so it measures the relay users run).

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { shebangNodeFlags } from '../../scripts/bench/relay-flags.js';

const ROOT = resolve(import.meta.dirname, '../..');
const firstLine = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n', 1)[0]!;

/** The flags between `node` and `dist/cli.js` in the npm start script. */
function startScriptFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const match = /\bnode((?: --?[\w-]+(?:=\S+)?)*) dist\/cli\.js\b/.exec(pkg.scripts.start!);
  expect(match, `npm start runs node … dist/cli.js: ${pkg.scripts.start}`).to.not.equal(null);
  return match![1]!.split(' ').filter((flag) => flag !== '');
}

describe('relay Node flags', function () {
  it('reads the flags of a "#!/usr/bin/env -S node" line and refuses any other line', function () {
    expect(shebangNodeFlags('#!/usr/bin/env -S node --a=1 --b')).to.deep.equal(['--a=1', '--b']);
    expect(shebangNodeFlags('#!/usr/bin/env -S node')).to.deep.equal([]);
    expect(() => shebangNodeFlags('#!/usr/bin/env node')).to.throw(/not a/);
    expect(() => shebangNodeFlags('// a comment')).to.throw(/not a/);
  });

  it('the command caps the young generation, in source and in the build', function () {
    const flags = shebangNodeFlags(firstLine('src/cli.ts'));
    expect(flags).to.include('--max-semi-space-size=2');
    expect(shebangNodeFlags(firstLine('dist/cli.js'))).to.deep.equal(flags);
  });

  it('npm start passes the same flags as the command', function () {
    expect(startScriptFlags()).to.deep.equal(shebangNodeFlags(firstLine('src/cli.ts')));
  });
});
