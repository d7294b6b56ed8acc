// The dashboard page's own files (web/dashboard/ in the package: hand-written ES modules, no build
// step), served as they are. The page holds no data and loads without credentials; what it shows
// comes through the API behind auth. Files are read once, on first request, from a fixed list.

import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { sendError } from '../http/http-server.js';

/** src/dashboard/ and dist/dashboard/ are both two levels below the package root. */
const ASSET_DIR = fileURLToPath(new URL('../../web/dashboard/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export const ASSETS = [
  'index.html',
  'app.js',
  'api.js',
  'live.js',
  'playground.js',
  'schema-form.js',
  'style.css',
] as const;

/** Same-origin scripts, styles and connections only; nothing may frame the page. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

export class StaticAssets {
  readonly #dir: string;
  readonly #cache = new Map<string, Buffer>();

  constructor(dir: string = ASSET_DIR) {
    this.#dir = dir;
  }

  /** Sends one asset by name (from ASSETS), or 404. */
  send(res: ServerResponse, name: string, head: boolean): void {
    if (!(ASSETS as readonly string[]).includes(name)) {
      sendError(res, 'not_found', `no dashboard file ${name}`);
      return;
    }
    let body = this.#cache.get(name);
    if (body === undefined) {
      body = readFileSync(this.#dir + name);
      this.#cache.set(name, body);
    }
    res.writeHead(200, {
      'content-type': TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      'content-length': body.length,
      ...PAGE_HEADERS,
    });
    res.end(head ? undefined : body);
  }
}
