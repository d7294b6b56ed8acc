#!/usr/bin/env node
// Serves this example page from its own origin (default http://localhost:5173), with the browser
// bundle of mcpmux/client (run `npm run build` first). Usage: node examples/browser/serve.mjs
// [--port N] [--host H]. Prints "serving <url>" once listening.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5173' },
    host: { type: 'string', default: 'localhost' },
  },
});
const here = new URL('./', import.meta.url);
const FILES = {
  '/': ['index.html', 'text/html'],
  '/app.js': ['app.js', 'text/javascript'],
  '/mcpmux-client.js': ['../../dist/browser/mcpmux-client.js', 'text/javascript'],
};

const server = createServer(async (req, res) => {
  const file = FILES[new URL(req.url ?? '/', 'http://x').pathname];
  if (file === undefined) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(new URL(file[0], here));
    res.writeHead(200, { 'content-type': `${file[1]}; charset=utf-8` }).end(body);
  } catch {
    res.writeHead(500).end(`cannot read ${file[0]} (run npm run build first)`);
  }
});
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  process.stdout.write(`serving http://${values.host}:${port}/\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
