// GET /metrics (SPEC §9): Prometheus text format 0.0.4 that parses line by line, the series the
// spec names (prefix mcpmux_, per-service labels, request duration and queue wait histograms), and
// counters that move with WebSocket and REST traffic.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { connectWs, http } from '../helpers/http.js';
import { waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, startRelay, type TestRelay, type WsCursor } from '../helpers/relay.js';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*,?)?\\}`;
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]Inf|NaN)';
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses exposition text, failing on any line that is not valid Prometheus text format. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith('\n'), 'ends with a newline').to.equal(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith('#')) {
      const type = TYPE.exec(line);
      if (type !== null) {
        expect(types.has(type[1]!), `${where} (TYPE given twice)`).to.equal(false);
        types.set(type[1]!, type[2]!);
        continue;
      }
      expect(HELP.test(line), where).to.equal(true);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, where).to.not.equal(null);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m![2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[k!] = v!;
    }
    const raw = m![3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    const name = m![1]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    expect(
      types.has(name) || types.get(base) === 'histogram' || types.get(base) === 'summary',
      `${where} (no TYPE)`,
    ).to.equal(true);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** The value of the one sample named `name` whose labels include `labels` (0 when absent). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)} matches`).to.be.at.most(1);
  return found[0]?.value ?? 0;
}

describe('metrics', function () {
  let relay: TestRelay | undefined;
  const sockets: WsCursor[] = [];

  const scrape = async () => {
    const answer = await http(`${relay!.url}/metrics`);
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    return parseExposition(answer.text);
  };

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  it('serves Prometheus text with the mcpmux_ series of SPEC §9', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    const { types } = await scrape();
    const expected: Record<string, string> = {
      mcpmux_connections: 'gauge',
      mcpmux_connections_total: 'counter',
      mcpmux_channels: 'gauge',
      mcpmux_sessions: 'gauge',
      mcpmux_processes: 'gauge',
      mcpmux_requests_total: 'counter',
      mcpmux_request_duration_seconds: 'histogram',
      mcpmux_queue_wait_seconds: 'histogram',
      mcpmux_queue_depth: 'gauge',
      mcpmux_requests_in_flight: 'gauge',
      mcpmux_process_spawns_total: 'counter',
      mcpmux_process_exits_total: 'counter',
      mcpmux_received_bytes_total: 'counter',
      mcpmux_sent_bytes_total: 'counter',
      mcpmux_refusals_total: 'counter',
      mcpmux_http_requests_total: 'counter',
      mcpmux_build_info: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(types.get(name), name).to.equal(type);
    }
    for (const name of types.keys()) expect(name, 'prefix').to.match(/^mcpmux_/);
    expect(types.get('mcpmux_process_resident_memory_bytes')).to.equal('gauge');
  });

  it('moves its counters with WebSocket and REST traffic', async function () {
    relay = await startRelay(
      { fixture: fixtureService() },
      { server: { auth_token: 'metrics-token' } },
    );
    const auth = { authorization: 'Bearer metrics-token' };
    const scrapeAuthed = async () => {
      const answer = await http(`${relay!.url}/metrics`, { headers: auth });
      expect(answer.status).to.equal(200);
      return parseExposition(answer.text).samples;
    };
    const before = await scrapeAuthed();
    const fixture = { service: 'fixture' };

    const c = await connectWs(relay.ws('/mcp/fixture'), 'mcp', { headers: auth });
    sockets.push(c);
    c.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    await c.next();
    for (let id = 1; id <= 3; id++) {
      c.send({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x'.repeat(1000) } },
      });
      await c.next();
    }
    c.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'no-such-tool' } });
    expect((await c.next()).error.code).to.equal(-32602);
    const rest = await http(`${relay.url}/services/fixture/call`, {
      method: 'POST',
      headers: auth,
      body: { tool: 'echo', arguments: { text: 'r' }, session_id: 'm1' },
    });
    expect(rest.status).to.equal(200);
    expect((await http(`${relay.url}/services`)).status).to.equal(401);

    const during = await scrapeAuthed();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(during, name, labels) - valueOf(before, name, labels);
    expect(delta('mcpmux_requests_total', { ...fixture, outcome: 'ok' })).to.equal(5); // init, 3 echo, REST
    expect(delta('mcpmux_requests_total', { ...fixture, outcome: 'error' })).to.equal(1);
    expect(delta('mcpmux_request_duration_seconds_count', fixture)).to.equal(6);
    expect(delta('mcpmux_request_duration_seconds_bucket', { ...fixture, le: '+Inf' })).to.equal(6);
    expect(valueOf(during, 'mcpmux_request_duration_seconds_sum', fixture)).to.be.above(0);
    expect(delta('mcpmux_queue_wait_seconds_count', fixture)).to.equal(6);
    expect(delta('mcpmux_connections_total', { endpoint: 'direct' })).to.equal(1);
    expect(valueOf(during, 'mcpmux_connections', { endpoint: 'direct' })).to.equal(1);
    expect(valueOf(during, 'mcpmux_sessions', fixture)).to.equal(2);
    expect(valueOf(during, 'mcpmux_channels', fixture)).to.equal(2);
    expect(valueOf(during, 'mcpmux_processes', fixture)).to.equal(2);
    expect(delta('mcpmux_process_spawns_total', fixture)).to.equal(2);
    expect(delta('mcpmux_refusals_total', { reason: 'unauthorized' })).to.equal(1);
    expect(
      delta('mcpmux_http_requests_total', { route: '/services/{name}/call', status: '200' }),
    ).to.equal(1);
    expect(delta('mcpmux_received_bytes_total')).to.be.above(3000);
    expect(delta('mcpmux_sent_bytes_total')).to.be.above(3000);

    // a histogram's buckets are cumulative and end at its count
    const buckets = during.filter(
      (s) => s.name === 'mcpmux_request_duration_seconds_bucket' && s.labels.service === 'fixture',
    );
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.value).to.be.at.least(buckets[i - 1]!.value);
    }

    c.ws.close();
    await c.expectClose();
    expect(
      (await http(`${relay.url}/sessions/m1`, { method: 'DELETE', headers: auth })).status,
    ).to.equal(200);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the sessions to stop');
    const after = await scrapeAuthed();
    expect(
      valueOf(after, 'mcpmux_process_exits_total', { ...fixture, reason: 'stopped' }) -
        valueOf(before, 'mcpmux_process_exits_total', { ...fixture, reason: 'stopped' }),
    ).to.equal(2);
    expect(valueOf(after, 'mcpmux_sessions', fixture)).to.equal(0);
    expect(valueOf(after, 'mcpmux_connections', { endpoint: 'direct' })).to.equal(0);
  });

  it('counts queue_full and crashed processes by their outcome and reason', async function () {
    relay = await startRelay({ fixture: fixtureService([], { concurrency: 1, queue_limit: 0 }) });
    const c = await connectWs(relay.ws('/mcp/fixture'), 'mcp');
    sockets.push(c);
    c.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    await c.next();
    c.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 300 } },
    });
    c.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' } },
    });
    const first = await c.next();
    expect(first.id).to.equal(2);
    expect(first.error.data.reason).to.equal('queue_full');
    expect((await c.next()).id).to.equal(1);
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'crash' } });
    expect((await c.next()).error.data.reason).to.equal('upstream_exited');
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the crashed session to go');
    const { samples } = await scrape();
    expect(
      valueOf(samples, 'mcpmux_requests_total', { service: 'fixture', outcome: 'queue_full' }),
    ).to.equal(1);
    expect(
      valueOf(samples, 'mcpmux_requests_total', { service: 'fixture', outcome: 'closed' }),
    ).to.equal(1);
    expect(
      valueOf(samples, 'mcpmux_process_exits_total', { service: 'fixture', reason: 'crashed' }),
    ).to.equal(1);
  });
});
