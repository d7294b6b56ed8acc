import { expect } from 'chai';
import { failureOf } from '../../src/loadtest/channel-driver.js';
import { UsageError, endpointUrl, parseLoadtestArgs } from '../../src/loadtest/options.js';

function parse(args: string[]) {
  const options = parseLoadtestArgs(args);
  if (options === 'help') throw new Error('unexpected help');
  return options;
}

describe('loadtest arguments', () => {
  it('maps a relay URL to the /mcp/{service} socket, with defaults', () => {
    const { spec, json, maxErrorRate } = parse([
      '--url',
      'http://127.0.0.1:8100',
      '--service',
      'todo',
    ]);
    expect(spec.target).to.deep.equal({ mode: 'mcp', url: 'ws://127.0.0.1:8100/mcp/todo' });
    expect(spec).to.include({
      connections: 1,
      channels: 1,
      inFlight: 1,
      durationMs: 10_000,
      warmupMs: 0,
      method: 'ping',
      timeoutMs: 30_000,
      connectTimeoutMs: 10_000,
    });
    expect(spec.requests).to.equal(undefined);
    expect(spec.writePerMessage).to.equal(false);
    expect(json).to.equal(false);
    expect(maxErrorRate).to.equal(0);
  });

  it('builds a tools/call from --tool and --args, and /ws with channels', () => {
    const { spec } = parse([
      ...['--url', 'https://relay.example/prefix/', '--service', 'a b', '--mode', 'ws'],
      ...['--channels', '4', '--in-flight', '8', '--connections', '3', '--requests', '1000'],
      ...['--tool', 'echo', '--args', '{"text":"hi"}', '--token', 's3cret', '--warmup', '0.5'],
      '--write-per-message',
    ]);
    expect(spec.target).to.deep.equal({
      mode: 'ws',
      url: 'wss://relay.example/prefix/ws',
      service: 'a b',
    });
    expect(spec.method).to.equal('tools/call');
    expect(spec.params).to.deep.equal({ name: 'echo', arguments: { text: 'hi' } });
    expect(spec).to.include({ channels: 4, inFlight: 8, connections: 3, requests: 1000 });
    expect(spec.durationMs).to.equal(undefined);
    expect(spec.warmupMs).to.equal(500);
    expect(spec.headers).to.deep.equal({ authorization: 'Bearer s3cret' });
    expect(spec.writePerMessage).to.equal(true);
  });

  it('takes a raw URL as is, and a stdio command as words or a JSON array', () => {
    expect(parse(['--mode', 'raw', '--url', 'ws://h:1/message']).spec.target).to.deep.equal({
      mode: 'raw',
      url: 'ws://h:1/message',
    });
    expect(parse(['--mode', 'stdio', '--command', 'node s.mjs --x']).spec.target).to.deep.equal({
      mode: 'stdio',
      command: ['node', 's.mjs', '--x'],
    });
    expect(
      parse(['--mode', 'stdio', '--command', '["node","my server.mjs"]']).spec.target,
    ).to.deep.equal({ mode: 'stdio', command: ['node', 'my server.mjs'] });
  });

  it('--mode http: a Streamable HTTP endpoint URL as given, or the relay /mcp/{service} under --url', () => {
    const full = parse(['--mode', 'http', '--url', 'http://127.0.0.1:8000/mcp?x=1']);
    expect(full.spec.target).to.deep.equal({ mode: 'http', url: 'http://127.0.0.1:8000/mcp?x=1' });
    const relay = parse([
      ...['--mode', 'http', '--url', 'https://relay.example/prefix/', '--service', 'a/b'],
      ...['--connections', '32', '--in-flight', '2', '--tool', 'echo', '--token', 't'],
    ]);
    expect(relay.spec.target).to.deep.equal({
      mode: 'http',
      url: 'https://relay.example/prefix/mcp/a%2Fb',
    });
    expect(relay.spec).to.include({ connections: 32, inFlight: 2, method: 'tools/call' });
    expect(relay.spec.headers).to.deep.equal({ authorization: 'Bearer t' });
  });

  it('escapes the service name in the path', () => {
    expect(endpointUrl('ws://h:1', `/mcp/${encodeURIComponent('a/b')}`)).to.equal(
      'ws://h:1/mcp/a%2Fb',
    );
  });

  it('answers --help', () => {
    expect(parseLoadtestArgs(['--help'])).to.equal('help');
  });

  const refused: [string, string[], RegExp][] = [
    ['an unknown option', ['--url', 'http://h', '--service', 's', '--nope'], /nope/],
    ['a missing --url', ['--service', 's'], /needs --url/],
    ['a missing --service', ['--url', 'http://h'], /needs --service/],
    ['a non-URL', ['--url', 'nope', '--service', 's'], /not a URL/],
    ['an ftp URL', ['--url', 'ftp://h', '--service', 's'], /http, https, ws or wss/],
    ['an unknown mode', ['--url', 'http://h', '--service', 's', '--mode', 'x'], /--mode/],
    ['channels without ws', ['--url', 'http://h', '--service', 's', '--channels', '2'], /ws/],
    ['zero in flight', ['--url', 'http://h', '--service', 's', '--in-flight', '0'], /in-flight/],
    [
      'a fractional count',
      ['--url', 'http://h', '--service', 's', '--requests', '1.5'],
      /requests/,
    ],
    [
      'a negative duration',
      ['--url', 'http://h', '--service', 's', '--duration', '-1'],
      /duration/,
    ],
    [
      'bad --args JSON',
      ['--url', 'http://h', '--service', 's', '--tool', 't', '--args', '{'],
      /JSON/,
    ],
    [
      'array --args',
      ['--url', 'http://h', '--service', 's', '--tool', 't', '--args', '[]'],
      /object/,
    ],
    ['--args without --tool', ['--url', 'http://h', '--service', 's', '--args', '{}'], /--tool/],
    [
      '--tool with --method',
      ['--url', 'http://h', '--service', 's', '--tool', 't', '--method', 'm'],
      /not both/,
    ],
    [
      'an error rate over 1',
      ['--url', 'http://h', '--service', 's', '--max-error-rate', '2'],
      /rate/,
    ],
    ['stdio without a command', ['--mode', 'stdio'], /--command/],
    ['http without --url', ['--mode', 'http'], /needs --url/],
    ['http with a ws URL', ['--mode', 'http', '--url', 'ws://h/mcp'], /http or https/],
    [
      'http with an empty service',
      ['--mode', 'http', '--url', 'http://h', '--service', ''],
      /empty/,
    ],
    ['http with channels', ['--mode', 'http', '--url', 'http://h', '--channels', '2'], /ws/],
    [
      'http with --write-per-message',
      ['--mode', 'http', '--url', 'http://h/mcp', '--write-per-message'],
      /does not apply/,
    ],
  ];
  for (const [what, args, message] of refused) {
    it(`refuses ${what} with a usage error`, () => {
      expect(() => parseLoadtestArgs(args))
        .to.throw(UsageError)
        .with.property('message')
        .that.matches(message);
    });
  }
});

describe('loadtest failure reasons', () => {
  it('uses the relay reason, else the upstream code, else tool_error for isError results', () => {
    expect(failureOf({ error: { code: -32000, data: { reason: 'queue_full' } } })).to.equal(
      'queue_full',
    );
    expect(failureOf({ error: { code: -32601, message: 'no' } })).to.equal('upstream:-32601');
    expect(failureOf({ result: { isError: true, content: [] } })).to.equal('tool_error');
    expect(failureOf({ result: { content: [] } })).to.equal(null);
  });
});
