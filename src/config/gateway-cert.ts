// The SignalWire gateway's TLS convention: with no TLS configured, a `certs/server.pem` holding
// both the certificate and its private key turns HTTPS on. mcpmux looks for it in the working
// directory (where the gateway looks) and then beside the config file.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const GATEWAY_CERT = 'certs/server.pem';

export type GatewayCert = { path: string } | { path: string; problem: string } | undefined;

/** The first `certs/server.pem` under `dirs`, checked to hold a certificate and a key. */
export function findGatewayCert(dirs: readonly string[]): GatewayCert {
  for (const dir of new Set(dirs)) {
    const path = resolve(dir, GATEWAY_CERT);
    if (!existsSync(path)) continue;
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      return { path, problem: `is unreadable (${(err as NodeJS.ErrnoException).code ?? ''})` };
    }
    const hasCert = text.includes('-----BEGIN CERTIFICATE-----');
    const hasKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
    if (!hasCert || !hasKey) {
      return {
        path,
        problem: `must hold a PEM certificate and its private key (it has ${hasCert ? 'no key' : 'no certificate'})`,
      };
    }
    return { path };
  }
  return undefined;
}
