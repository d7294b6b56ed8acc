// The bench's Streamable HTTP table: both paths side by side, a path not measured says why.

import { expect } from 'chai';
import { httpTable, type HttpPathResult } from '../../scripts/bench/http-report.js';

const path = (w1: number, w32: number, relayUs: number): HttpPathResult => ({
  w1: { rps: w1, p50_ms: 0.5, p99_ms: 1.25 },
  w32: { rps: w32, p50_ms: 2, p99_ms: 8 },
  cpu: { relay: relayUs, server: 10, generator: 40, requests: 9000 },
});

describe('bench Streamable HTTP table', () => {
  it('prints both paths at 1 and 32 in flight, CPU per request and the ratios', () => {
    const lines = httpTable({
      relay: path(2000, 6000, 30),
      supergateway: path(500, 1000, 120),
    }).split('\n');
    expect(
      lines.filter((l) => /^relay POST \/mcp\/echo\s+1\s+2000\s+0\.500\s+1\.250$/.test(l)),
    ).to.have.length(1);
    expect(
      lines.filter((l) => /^supergateway shttp\s+32\s+1000\s+2\.000\s+8\.000$/.test(l)),
    ).to.have.length(1);
    expect(
      lines.filter((l) => /^supergateway shttp\s+120\.0\s+10\.0\s+40\.0\s+9000$/.test(l)),
    ).to.have.length(1);
    expect(lines.at(-1)).to.equal(
      'relay vs supergateway over HTTP: req/s 4.00× at 1 in flight, 6.00× at 32; ' +
        "relay CPU per request 0.25× supergateway's",
    );
  });

  it('names why a path was not measured, and prints no ratio then', () => {
    const text = httpTable({ relay: { skipped: 'HTTP 404' }, supergateway: path(1, 1, 1) });
    expect(text.match(/not measured: HTTP 404/g)).to.have.length(3);
    expect(text).not.to.include('relay vs supergateway');
  });
});
