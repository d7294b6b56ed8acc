// Runs the official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13, its CLI) against a
// Streamable HTTP URL as a child process, and reads each scenario's checks from the checks.json the CLI
// writes under --output-dir (the machine-readable result; the console output is for people). Every run
// has a deadline; a process past it is killed.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './config.js';

export const CONFORMANCE_CLI = join(
  ROOT,
  'node_modules/@modelcontextprotocol/conformance/dist/index.js',
);

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';

/** One check of a scenario, as the CLI writes it (the fields we read). */
export interface Check {
  id: string;
  name: string;
  description: string;
  status: CheckStatus;
  errorMessage?: string;
}

export interface ConformanceRun {
  /** The CLI's exit code (1 iff some check is FAILURE), or null when it was killed at the deadline. */
  exitCode: number | null;
  /** Checks per scenario that wrote its checks.json (a scenario that threw writes none). */
  checks: Map<string, Check[]>;
  /** The tail of the CLI's stdout and stderr, for failure messages. */
  output: string;
  ms: number;
}

/** Bytes of CLI output kept (the tail). */
const OUTPUT_TAIL_BYTES = 64 * 1024;

/**
 * Runs `conformance server --url <url> <selection>` (`--suite all|active|pending` or `--scenario X`)
 * with a fresh --output-dir; never rejects: a crash or a timeout shows as missing scenarios and says
 * why in `output`.
 */
export async function runConformance(
  url: string,
  selection: string[],
  timeoutMs: number,
): Promise<ConformanceRun> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'mcpmux-conformance-'));
  try {
    const run = await runCli(
      ['server', '--url', url, ...selection, '--output-dir', dir],
      timeoutMs,
    );
    let { output } = run;
    const checks = new Map<string, Check[]>();
    for (const folder of readdirSync(dir)) {
      try {
        const [scenario, list] = readFolder(dir, folder);
        checks.set(scenario, list);
      } catch (err) {
        output += `\n${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return { exitCode: run.exitCode, checks, output, ms: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the CLI to its end, or kills it at the deadline (exit code null, the output says so). */
function runCli(
  args: string[],
  timeoutMs: number,
): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CONFORMANCE_CLI, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer | string) => {
      output += chunk.toString();
      if (output.length > OUTPUT_TAIL_BYTES) output = output.slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      keep(`\n[killed: still running after ${timeoutMs} ms]`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => keep(`\n[spawn error: ${err.message}]`));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, output });
    });
  });
}

/** The CLI names a result folder `server-<scenario>-<ISO time with : and . as ->`. */
const FOLDER = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** The scenario and checks of one result folder under `dir`. */
function readFolder(dir: string, folder: string): [string, Check[]] {
  const m = FOLDER.exec(folder);
  if (m === null) throw new Error(`unexpected result folder ${folder}`);
  const checks: unknown = JSON.parse(readFileSync(join(dir, folder, 'checks.json'), 'utf8'));
  if (!Array.isArray(checks)) throw new Error(`${folder}/checks.json is not an array`);
  return [m[1]!, checks as Check[]];
}
