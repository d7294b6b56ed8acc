// What SIGTERM/SIGINT do to the mcpmux process (cli.ts installs it; process.exit is passed in).
// The exit is bounded whatever happens: the first signal starts the relay's graceful close and a
// deadline at its budget (shutdown_grace + the stop sequence) + EXIT_SLACK_MS; past it, or on a
// second signal, every server's process group is killed and the process exits 1. Log output is
// flushed before each exit, but only under a deadline (LogDestination never blocks).

import type { Logger } from './log.js';

/** The exit comes at most this long after the relay's shutdown budget (docs/operations.md, "Shutdown": + 1 s). */
export const EXIT_SLACK_MS = 1000;
/** How long the last log lines may take to be written after a clean close. */
export const LOG_FLUSH_MS = 500;

export interface ShutdownDeps {
  /** The relay's graceful close. */
  close(): Promise<void>;
  /** The longest close() should take (Relay.shutdownBudgetMs). */
  budgetMs: number;
  /** SIGKILLs every server's process group (MCPManager.killAll). */
  killAll(): void;
  /** Resolves once the log output is written, or after `ms`. */
  flushWithin(ms: number): Promise<void>;
  exit(code: number): void;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Runs `fn` after `ms` without keeping the process alive; returns a cancel. */
  timer?: (fn: () => void, ms: number) => () => void;
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

/** The handler for SIGTERM and SIGINT. */
export function signalHandler(deps: ShutdownDeps): (signal: string) => void {
  const timer = deps.timer ?? unrefTimer;
  let signals = 0;
  let exiting = false;
  const exitAfterFlush = (code: number, within: number) => {
    if (exiting) return;
    exiting = true;
    void deps.flushWithin(within).then(() => deps.exit(code));
  };
  return (signal) => {
    signals++;
    if (signals > 1) {
      deps.log.warn({ signal }, 'second signal: servers killed, exiting now');
      deps.killAll();
      exiting = true;
      deps.exit(1);
      return;
    }
    deps.log.info({ signal }, 'signal received, shutting down');
    const budget = deps.budgetMs;
    const cancel = timer(() => {
      deps.log.error({ budget_ms: budget }, 'shutdown did not finish in time: servers killed');
      deps.killAll();
      exitAfterFlush(1, EXIT_SLACK_MS - LOG_FLUSH_MS - 100);
    }, budget + LOG_FLUSH_MS);
    deps.close().then(
      () => {
        cancel();
        exitAfterFlush(0, LOG_FLUSH_MS);
      },
      (err: unknown) => {
        cancel();
        deps.log.error({ err }, 'shutdown failed');
        exitAfterFlush(1, LOG_FLUSH_MS);
      },
    );
  };
}
