// `mcpmux loadtest …`: parses the arguments, runs the load, prints the progress line (on a
// terminal), then the table or --json; returns the exit status (0 ok, 1 failure, 2 usage).
// Ctrl-C stops the run and still prints what was measured.

import { ConnectError } from './connect.js';
import { runLoad, type LoadResult } from './engine.js';
import { LOADTEST_USAGE, UsageError, parseLoadtestArgs } from './options.js';
import { errorRate, progressLine, resultTable } from './report.js';

export async function runLoadtest(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseLoadtestArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`mcpmux loadtest: ${err.message}\n(mcpmux loadtest --help for usage)\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(LOADTEST_USAGE);
    return 0;
  }
  const { spec, json, quiet, maxErrorRate } = options;
  const live = !quiet && process.stderr.isTTY;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  let result: LoadResult;
  try {
    result = await runLoad(spec, {
      signal: abort.signal,
      ...(live && { onProgress: (p) => process.stderr.write(progressLine(p)) }),
    });
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    if (json) {
      const error = { reason: err.reason, message: err.message };
      process.stdout.write(JSON.stringify({ error }) + '\n');
    }
    process.stderr.write(`${live ? '\n' : ''}mcpmux loadtest: ${err.message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (live) process.stderr.write('\r\x1b[K');
  const rate = errorRate(result);
  const passed = rate <= maxErrorRate;
  if (json) {
    process.stdout.write(
      JSON.stringify({ ...result, errorRate: rate, maxErrorRate, passed }) + '\n',
    );
  } else {
    process.stdout.write(resultTable(result));
    if (!passed && result.ok === 0) process.stdout.write('FAILED: no request succeeded\n');
    else if (!passed) {
      process.stdout.write(
        `FAILED: error rate ${(rate * 100).toFixed(2)} % > --max-error-rate ${maxErrorRate}\n`,
      );
    }
  }
  return passed ? 0 : 1;
}
