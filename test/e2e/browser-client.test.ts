// The browser path as a page developer meets it: the prebuilt bundle of mcpmux/client
// (dist/browser/mcpmux-client.js, from npm run build) has no Node built-in; the page in
// examples/browser, served from another origin, uses it against /ws when that origin is listed
// (here through --allow-origin's config key), and learns why it was refused when it is not.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import {
  expectText,
  HAVE_CHROMIUM,
  launchChromium,
  NO_CHROMIUM,
  type Browser,
} from '../helpers/chromium.js';
import { fixtureService, ROOT } from '../helpers/config.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

const BUNDLE = join(ROOT, 'dist/browser/mcpmux-client.js');
const TOKEN = 'example-token';

describe('browser bundle of mcpmux/client', () => {
  it('is built, small, and imports no Node built-in', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} (run npm run build)`).to.equal(true);
    const text = readFileSync(BUNDLE, 'utf8');
    expect(text.length).to.be.below(64 * 1024);
    expect(text).to.match(/export\s*\{[^}]*MuxClient/);
    // An ES module bundle with every import inlined: no import, require or node: specifier left.
    expect(text).not.to.match(/\bimport\s*[\w{*].*?from\s*["']/);
    expect(text).not.to.match(/\bimport\s*\(/);
    expect(text).not.to.match(/\brequire\s*\(/);
    expect(text).not.to.match(/["']node:/);
    for (const name of builtinModules.filter((m) => !m.startsWith('_'))) {
      expect(text, name).not.to.include(`"${name}"`);
    }
  });
});

describe('examples/browser in Chromium', function () {
  this.timeout(60_000);
  let server: ChildProcess | undefined;
  let origin = '';
  let browser: Browser | undefined;
  let relay: TestRelay | undefined;

  before(async function () {
    if (!HAVE_CHROMIUM) {
      console.log(`      skipped: ${NO_CHROMIUM}`);
      this.skip();
    }
    const child = spawn(
      process.execPath,
      [join(ROOT, 'examples/browser/serve.mjs'), '--port', '0', '--host', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    server = child;
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('serve.mjs did not start in 5 s')), 5000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
    origin = new URL(first.replace(/^serving /, '')).origin;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (server !== undefined && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  });

  afterEach(async () => {
    await relay?.close(); // each test's relay and its sessions end with the test
    relay = undefined;
  });

  async function connectFromPage(relay: TestRelay): Promise<void> {
    const page = browser!.page;
    await page.goto(`${origin}/`);
    await page.fill('#url', relay.ws('/ws'));
    await page.fill('#token', TOKEN);
    await page.fill('#service', 'todo');
    await page.click('#connect button[type=submit]');
  }

  it('lists and calls tools over /ws when its origin is allowed', async () => {
    relay = await startRelay(
      { todo: fixtureService() },
      { server: { auth_token: TOKEN, allowed_origins: [origin] } },
    );
    await connectFromPage(relay);
    const page = browser!.page;
    await page.locator('#tools li[data-tool="echo"]').waitFor({ timeout: 10_000 });
    await expectText(page, '#status', 'session ');
    await page.fill('#tool', 'echo');
    await page.fill('#args', '{"text": "from another origin"}');
    await page.click('#call button[type=submit]');
    await expectText(page, '#result', 'from another origin');
  });

  it('shows why the upgrade was refused when its origin is not listed', async () => {
    relay = await startRelay({ todo: fixtureService() }, { server: { auth_token: TOKEN } });
    await connectFromPage(relay);
    await expectText(browser!.page, '#status', 'forbidden_origin');
  });
});
