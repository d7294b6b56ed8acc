// The load tests' shared pieces: a LoadSpec with the defaults every load test starts from (one
// connection, one channel, echo calls, 10 s deadlines, no warm-up), and the ConnectError a load
// that cannot start must end with.

import { expect } from 'chai';
import { ConnectError } from '../../src/loadtest/connect.js';
import type { LoadSpec, Target } from '../../src/loadtest/engine.js';

export function loadSpec(target: Target, overrides: Partial<LoadSpec> = {}): LoadSpec {
  return {
    target,
    connections: 1,
    channels: 1,
    inFlight: 4,
    requests: 200,
    warmupMs: 0,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'load' } },
    timeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    headers: {},
    ...overrides,
  };
}

/** The ConnectError `load` rejects with; fails the test if it resolves or rejects otherwise. */
export async function connectError(load: Promise<unknown>): Promise<ConnectError> {
  try {
    await load;
  } catch (err) {
    expect(err).to.be.instanceOf(ConnectError);
    return err as ConnectError;
  }
  throw new Error('the load test did not fail');
}
