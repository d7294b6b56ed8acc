// Unit tests for the error catalogue (SPEC §8): docs/errors.md and REASONS stay in sync both ways,
// and toJsonRpcError is the one documented mapping from relay errors to JSON-RPC error objects.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  McpmuxError,
  REASONS,
  UpstreamError,
  closeCodeFor,
  isReason,
  toJsonRpcError,
  type Reason,
} from '../../src/errors.js';

const DOC_PATH = new URL('../../docs/errors.md', import.meta.url);

interface DocRow {
  reason: string;
  code: string;
  closeCode: string;
  httpStatus: string;
  line: number;
}

/** Table rows whose first cell is a reason in backticks: `| \`name\` | code | close | http | … |`. */
function docRows(): DocRow[] {
  const rows: DocRow[] = [];
  readFileSync(DOC_PATH, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /^\|\s*`([a-z_]+)`\s*\|/.exec(text);
      if (match === null) return;
      const cells = text
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      rows.push({
        reason: match[1]!,
        code: cells[1] ?? '',
        closeCode: cells[2] ?? '',
        httpStatus: cells[3] ?? '',
        line: index + 1,
      });
    });
  return rows;
}

const reasons = Object.keys(REASONS) as Reason[];

describe('error catalogue', () => {
  describe('docs/errors.md', () => {
    const rows = docRows();
    const byReason = new Map(rows.map((r) => [r.reason, r]));

    it('has a table of reasons', () => {
      expect(rows.length).to.be.greaterThan(0);
    });

    it('lists each reason once', () => {
      const seen = rows.map((r) => r.reason);
      const duplicates = seen.filter((r, i) => seen.indexOf(r) !== i);
      expect(duplicates, 'reasons with more than one row').to.deep.equal([]);
    });

    it('has a row for every reason in REASONS', () => {
      const missing = reasons.filter((r) => !byReason.has(r));
      expect(missing, 'reasons missing from docs/errors.md').to.deep.equal([]);
    });

    it('has no row for a reason that is not in REASONS', () => {
      const unknown = rows
        .filter((r) => !isReason(r.reason))
        .map((r) => `${r.reason} (line ${r.line})`);
      expect(unknown, 'rows in docs/errors.md with no catalogue entry').to.deep.equal([]);
    });

    for (const reason of reasons) {
      it(`${reason}: same JSON-RPC code, close code and HTTP status as the catalogue`, () => {
        const row = byReason.get(reason);
        if (row === undefined) return; // reported by the "every reason" test
        const info = REASONS[reason];
        expect(row.code, `${reason} JSON-RPC code (line ${row.line})`).to.equal(String(info.code));
        expect(row.closeCode, `${reason} close code (line ${row.line})`).to.equal(
          info.closeCode === null ? '—' : String(info.closeCode),
        );
        expect(row.httpStatus, `${reason} HTTP status (line ${row.line})`).to.equal(
          String(info.httpStatus),
        );
      });
    }
  });

  describe('REASONS', () => {
    it('gives every reason an integer code, an HTTP error status and a summary', () => {
      for (const reason of reasons) {
        const info = REASONS[reason];
        expect(Number.isInteger(info.code), reason).to.equal(true);
        expect(info.httpStatus, reason).to.be.within(400, 599);
        expect(info.summary, reason).to.be.a('string').that.is.not.empty;
        if (info.closeCode !== null) expect(info.closeCode, reason).to.be.within(1000, 4999);
      }
    });

    it('uses the codes SPEC §8 fixes', () => {
      expect(REASONS.parse_error.code).to.equal(-32700);
      expect(REASONS.invalid_request.code).to.equal(-32600);
      expect(REASONS.request_timeout.code).to.equal(-32001);
      const minus32000: Reason[] = [
        'queue_full',
        'rate_limited',
        'upstream_exited',
        'spawn_failed',
        'session_closed',
        'idle_timeout',
        'slow_consumer',
        'session_limit',
        'shutting_down',
      ];
      for (const reason of minus32000) expect(REASONS[reason].code, reason).to.equal(-32000);
      expect(REASONS.parse_error.closeCode).to.equal(null);
      expect(REASONS.invalid_request.closeCode).to.equal(null);
      expect(REASONS.request_timeout.closeCode).to.equal(null);
      expect(REASONS.queue_full.closeCode).to.equal(null);
      expect(REASONS.rate_limited.closeCode).to.equal(null);
      expect(REASONS.shutting_down.closeCode).to.equal(1001);
      expect(REASONS.message_too_large.closeCode).to.equal(1009);
      expect(REASONS.unauthorized.closeCode).to.equal(1008);
      expect(REASONS.internal_error.closeCode).to.equal(1011);
    });

    it('gives the session-ending reasons of SPEC §8 a close code', () => {
      const ending: Reason[] = [
        'upstream_exited',
        'spawn_failed',
        'session_closed',
        'idle_timeout',
        'slow_consumer',
        'session_limit',
      ];
      for (const reason of ending) {
        expect(REASONS[reason].closeCode, reason).to.be.within(4000, 4999);
      }
    });

    it('has unique close codes among the 4000-range reasons', () => {
      const owners = new Map<number, Reason[]>();
      for (const reason of reasons) {
        const code = REASONS[reason].closeCode;
        if (code === null || code < 4000 || code > 4999) continue;
        owners.set(code, [...(owners.get(code) ?? []), reason]);
      }
      const shared = [...owners].filter(([, rs]) => rs.length > 1);
      expect(shared, 'close codes used by more than one reason').to.deep.equal([]);
      expect(owners.size).to.be.greaterThan(0);
    });

    it('closeCodeFor falls back to 1011 for a reason without a close code', () => {
      expect(closeCodeFor('upstream_exited')).to.equal(4000);
      expect(closeCodeFor('shutting_down')).to.equal(1001);
      expect(closeCodeFor('request_timeout')).to.equal(1011);
    });

    it('isReason accepts catalogue keys only', () => {
      expect(isReason('queue_full')).to.equal(true);
      expect(isReason('nope')).to.equal(false);
      expect(isReason('toString')).to.equal(false);
      expect(isReason('__proto__')).to.equal(false);
      expect(isReason(undefined)).to.equal(false);
      expect(isReason(-32000)).to.equal(false);
    });
  });

  describe('McpmuxError', () => {
    it('uses the summary as the default message and the catalogue code', () => {
      const err = new McpmuxError('idle_timeout');
      expect(err).to.be.instanceOf(Error);
      expect(err.name).to.equal('McpmuxError');
      expect(err.message).to.equal(REASONS.idle_timeout.summary);
      expect(err.code).to.equal(-32000);
      expect(err.data).to.deep.equal({});
    });

    it('keeps its cause', () => {
      const cause = new Error('ENOENT');
      const err = new McpmuxError('spawn_failed', 'cannot spawn', {}, { cause });
      expect(err.cause).to.equal(cause);
    });
  });

  describe('toJsonRpcError', () => {
    it('maps a McpmuxError to {code, message, data: {reason, ...data}}', () => {
      const data = { exit_code: 1, signal: null, stderr_tail: ['boom'] };
      const err = new McpmuxError('upstream_exited', 'the server process exited (code 1)', data);
      expect(toJsonRpcError(err)).to.deep.equal({
        code: -32000,
        message: 'the server process exited (code 1)',
        data: { reason: 'upstream_exited', exit_code: 1, signal: null, stderr_tail: ['boom'] },
      });
    });

    it('uses the catalogue code of each reason', () => {
      for (const reason of reasons) {
        const out = toJsonRpcError(new McpmuxError(reason));
        expect(out, reason).to.deep.equal({
          code: REASONS[reason].code,
          message: REASONS[reason].summary,
          data: { reason },
        });
      }
    });

    it('gives request_timeout its -32001 code and fields', () => {
      const err = new McpmuxError('request_timeout', 'tools/call timed out after 60000 ms', {
        method: 'tools/call',
        timeout_ms: 60000,
      });
      expect(toJsonRpcError(err)).to.deep.equal({
        code: -32001,
        message: 'tools/call timed out after 60000 ms',
        data: { reason: 'request_timeout', method: 'tools/call', timeout_ms: 60000 },
      });
    });

    it('does not share the data object with the error', () => {
      const err = new McpmuxError('queue_full', 'full', { retry_after_ms: 10, queue_limit: 2 });
      const out = toJsonRpcError(err);
      expect(out.data).not.to.equal(err.data);
      expect(err.data).not.to.have.property('reason');
    });

    it('passes an UpstreamError through untouched', () => {
      const data = { details: ['x'], reason: 'the server’s own' };
      const out = toJsonRpcError(
        new UpstreamError({ code: -32602, message: 'Unknown tool', data }),
      );
      expect(out).to.deep.equal({ code: -32602, message: 'Unknown tool', data });
      expect(out.data).to.equal(data);
    });

    it('adds no data to an UpstreamError that had none', () => {
      const out = toJsonRpcError(new UpstreamError({ code: 42, message: 'custom' }));
      expect(out).to.deep.equal({ code: 42, message: 'custom' });
      expect(out).not.to.have.property('data');
    });

    it('keeps falsy upstream data (null, 0, "")', () => {
      for (const data of [null, 0, '', false]) {
        const out = toJsonRpcError(new UpstreamError({ code: -1, message: 'm', data }));
        expect(out).to.have.property('data', data);
      }
    });

    it('maps a plain Error to internal_error -32603 without leaking its message', () => {
      const out = toJsonRpcError(new Error('secret path /etc/shadow'));
      expect(out.code).to.equal(-32603);
      expect(out.data).to.deep.equal({ reason: 'internal_error' });
      expect(out.message).not.to.include('secret');
    });

    it('maps a thrown non-Error value to internal_error', () => {
      for (const value of ['oops', 42, undefined, null, { reason: 'queue_full' }]) {
        const out = toJsonRpcError(value);
        expect(out.code).to.equal(-32603);
        expect(out.data).to.deep.equal({ reason: 'internal_error' });
      }
    });
  });
});
