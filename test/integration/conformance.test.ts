// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13, pinned: the last that
// runs on Node 20) against the relay's Streamable HTTP endpoint /mcp/{service}, for a service running
// test/fixtures/conformance-server.mjs (issue 13, item 4). One relay serves every scenario; the CLI runs
// the suites and each scenario's checks.json is read back. Every server
// scenario of 0.1.13 is listed (the "pending" json-schema-2020-12 and server-sse-polling included);
// checks other than SUCCESS/INFO are allowed only where ALLOWED says so, with the reason, and a listed
// allowance that no longer happens fails too, so the list cannot go stale. docs/operations.md
// ("Conformance") has the table and how to run one scenario by hand.
import { expect } from 'chai';
import { join } from 'node:path';
import { ROOT, serviceConfig } from '../helpers/config.js';
import {
  runConformance,
  type Check,
  type CheckStatus,
  type ConformanceRun,
} from '../helpers/conformance.js';
import { startRelay } from '../helpers/relay.js';

const FIXTURE = join(ROOT, 'test/fixtures/conformance-server.mjs');
const SERVICE = 'conformance';

/** Every server scenario of conformance 0.1.13 (`npx conformance list`). */
const SCENARIOS = [
  'server-initialize',
  'logging-set-level',
  'ping',
  'completion-complete',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-sampling',
  'tools-call-elicitation',
  'json-schema-2020-12',
  'elicitation-sep1034-defaults',
  'server-sse-polling',
  'server-sse-multiple-streams',
  'elicitation-sep1330-enums',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'resources-subscribe',
  'resources-unsubscribe',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'dns-rebinding-protection',
] as const;
type Scenario = (typeof SCENARIOS)[number];

/**
 * Checks that may end other than SUCCESS or INFO, per scenario and check id, with the reason. Empty
 * means: every check of every scenario passes.
 */
const ALLOWED: Partial<Record<Scenario, Record<string, { status: CheckStatus; why: string }>>> = {};

/** Checks that must be present with exactly this status (beyond "no FAILURE"). */
const REQUIRED: Partial<Record<Scenario, Record<string, CheckStatus>>> = {
  // The scenario's POST declares 2025-03-26, but its session negotiated 2025-11-25: the relay primes
  // the stream (an id with empty data, retry 500 ms) by the session's revision. Missing, each would
  // be a WARNING, which ALLOWED does not accept anyway; named here so the requirement is visible.
  'server-sse-polling': {
    'server-sse-priming-event': 'SUCCESS',
    'server-sse-retry-field': 'SUCCESS',
  },
  'dns-rebinding-protection': {
    'localhost-host-rebinding-rejected': 'SUCCESS',
    'localhost-host-valid-accepted': 'SUCCESS',
  },
};

/**
 * The CLI runs the scenarios of a suite one after the other; the active suite and the pending one
 * (json-schema-2020-12, server-sse-polling) run as two processes at once. Each scenario opens its own
 * session (a server process) and never DELETEs it: the relay's idle timeout or close ends them.
 */
const SUITES = ['active', 'pending'] as const;
const SUITE_DEADLINE_MS = 120_000;

interface Result {
  scenario: Scenario;
  checks: Check[] | undefined;
}

/** What is wrong with one scenario's checks, or [] when it passed as this file expects. */
function problemsOf({ scenario, checks }: Result): string[] {
  if (checks === undefined) return ['no checks.json (the scenario threw, or the CLI was killed)'];
  const problems: string[] = [];
  if (checks.length === 0) problems.push('no checks at all');
  const allowed = ALLOWED[scenario] ?? {};
  for (const check of checks) {
    if (check.status === 'SUCCESS' || check.status === 'INFO') continue;
    if (allowed[check.id]?.status === check.status) continue;
    problems.push(`${check.status} ${check.id}: ${check.errorMessage ?? check.description}`);
  }
  for (const [id, { status }] of Object.entries(allowed)) {
    if (!checks.some((c) => c.id === id && c.status === status)) {
      problems.push(`ALLOWED lists ${status} ${id}, which no longer happens: remove it`);
    }
  }
  for (const [id, status] of Object.entries(REQUIRED[scenario] ?? {})) {
    const seen = checks.filter((c) => c.id === id).map((c) => c.status);
    if (!seen.includes(status))
      problems.push(`${id}: want ${status}, got ${seen.join('/') || 'none'}`);
  }
  return problems;
}

describe('conformance suite (@modelcontextprotocol/conformance 0.1.13) over /mcp/{service}', function () {
  this.timeout(SUITE_DEADLINE_MS + 30_000);

  it('passes every server scenario against the conformance fixture, dns-rebinding-protection included', async () => {
    const relay = await startRelay({
      [SERVICE]: serviceConfig(['node', FIXTURE], {
        description: 'conformance fixture',
        // Each scenario opens a session; spares started ahead halve the run on a loaded machine.
        warm_spares: 6,
      }),
    });
    let runs: ConformanceRun[];
    try {
      const url = `${relay.url}/mcp/${SERVICE}`;
      runs = await Promise.all(
        SUITES.map((suite) => runConformance(url, ['--suite', suite], SUITE_DEADLINE_MS)),
      );
    } finally {
      await relay.close();
    }
    const all = new Map(runs.flatMap((run) => [...run.checks]));
    const failed: { scenario: string; problems: string[] }[] = [];
    for (const scenario of SCENARIOS) {
      const problems = problemsOf({ scenario, checks: all.get(scenario) });
      if (problems.length > 0) failed.push({ scenario, problems });
    }
    for (const scenario of all.keys()) {
      if (!(SCENARIOS as readonly string[]).includes(scenario)) {
        failed.push({ scenario, problems: ['ran, but SCENARIOS does not list it: add it'] });
      }
    }
    const report = failed.map((f) => `✗ ${f.scenario}\n    ${f.problems.join('\n    ')}`);
    const outputs = runs.map(
      (run, i) =>
        `--- ${SUITES[i]} suite: exit ${run.exitCode}, ${run.ms} ms, output tail ---\n${run.output.slice(-3000)}`,
    );
    expect(
      failed.map((f) => f.scenario),
      [...report, ...outputs].join('\n'),
    ).to.deep.equal([]);
  });
});
