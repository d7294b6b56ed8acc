// A self-signed certificate for 127.0.0.1 made with the openssl command, written as SignalWire's
// gateway expects it: one `certs/server.pem` holding the private key and the certificate.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dir>/certs/server.pem`; undefined when openssl cannot be run here. */
export function gatewayPem(dir: string): { pem: string; cert: Buffer } | undefined {
  const certs = join(dir, 'certs');
  mkdirSync(certs, { recursive: true });
  const pem = join(certs, 'server.pem');
  const certFile = join(certs, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        ...[
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        ...[
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          pem,
          '-out',
          certFile,
        ],
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
  } catch {
    return undefined;
  }
  const cert = readFileSync(certFile);
  appendFileSync(pem, cert);
  return { pem, cert };
}
