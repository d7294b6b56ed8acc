// src/ has no import cycles (type-only imports included: they still tie the modules together),
// and the browser client (src/client) reaches no node:* module through its imports.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/config.js';

const SRC = join(ROOT, 'src');
const IMPORT =
  /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Every module's imports: relative ones as absolute .ts paths, others as given (node:fs, ws). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
    graph.set(
      file,
      specs.map((s) => (s.startsWith('.') ? resolve(dirname(file), s.replace(/\.js$/, '.ts')) : s)),
    );
  }
  return graph;
}

/** One cycle as a list of files, or undefined (depth-first search, three colours). */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

describe('imports of src/', function () {
  it('have no cycle', function () {
    const cycle = findCycle(importGraph());
    if (cycle !== undefined)
      expect.fail(`import cycle: ${cycle.map((f) => relative(SRC, f)).join(' -> ')}`);
  });

  it('finds a cycle when there is one (the checker itself)', function () {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(graph)).to.deep.equal(['a', 'b', 'c', 'a']);
  });

  it('keep the browser client (src/client) free of node:* modules', function () {
    const graph = importGraph();
    const reached = new Set<string>();
    const walk = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const next of graph.get(file) ?? []) if (graph.has(next)) walk(next);
    };
    walk(join(SRC, 'client/mux-client.ts'));
    const nodeImports = [...reached].flatMap((f) =>
      (graph.get(f) ?? [])
        .filter((s) => s.startsWith('node:'))
        .map((s) => `${relative(SRC, f)}: ${s}`),
    );
    expect(nodeImports).to.deep.equal([]);
  });
});
