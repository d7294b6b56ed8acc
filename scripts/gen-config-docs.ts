// Writes docs/config.md from the config schema. With --check, writes nothing and exits 1 when the
// file is missing or stale (CI runs it that way).
//   node --import tsx scripts/gen-config-docs.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from '../src/config/docs.js';

const target = fileURLToPath(new URL('../docs/config.md', import.meta.url));
const expected = renderConfigDocs();

if (process.argv.includes('--check')) {
  let current: string | undefined;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== expected) {
    process.stderr.write(`${target} is stale; run: node --import tsx scripts/gen-config-docs.ts\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${target} is up to date\n`);
  }
} else {
  writeFileSync(target, expected);
  process.stdout.write(`wrote ${target}\n`);
}
