// The dashboard in a real browser (Debian's chromium, driven by playwright-core; no browser is
// downloaded): the token typed once, services shown, a session opened by another client appears
// live and disappears when it closes, and a tool run from the playground with its progress.
// Screenshots of each state go to test-artifacts/dashboard/. Without /usr/bin/chromium the
// suite is skipped, with the reason.
import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  expectText as textIn,
  HAVE_CHROMIUM,
  launchChromium,
  NO_CHROMIUM,
  type Browser,
} from '../helpers/chromium.js';
import { fixtureService, ROOT } from '../helpers/config.js';
import { bearer, connectWs } from '../helpers/http.js';
import { INIT_PARAMS, startRelay, type TestRelay } from '../helpers/relay.js';

const ARTIFACTS = join(ROOT, 'test-artifacts/dashboard');
const TOKEN = 'dashboard-test-token';
/** Generous: a live change reaches the page within one snapshot tick (1 s) plus rendering. */
const LIVE_MS = 10_000;

describe('dashboard in Chromium', function () {
  this.timeout(60_000);
  let relay: TestRelay;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    if (!HAVE_CHROMIUM) {
      console.log(`      skipped: ${NO_CHROMIUM}`);
      this.skip();
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    relay = await startRelay(
      { fixture: fixtureService(), todo: fixtureService([], { description: 'second service' }) },
      { server: { auth_token: TOKEN } },
    );
    browser = await launchChromium();
    page = browser.page;
  });

  afterEach(async function () {
    // A failed step may leave the page's session open: end everything so no process outlives it.
    if (this.currentTest?.state === 'failed') await relay?.close();
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  it('asks for the token, keeps it for the tab only, then shows the services', async () => {
    await page.goto(relay.url + '/');
    await page.locator('#auth').waitFor({ state: 'visible', timeout: LIVE_MS });
    expect(await page.textContent('#relay-state')).to.equal('unauthorized');
    await shot('1-token');
    await page.fill('#token', TOKEN);
    await page.click('#auth button[type=submit]');
    await page.locator('tr[data-service="fixture"]').waitFor({ timeout: LIVE_MS });
    await page.locator('tr[data-service="todo"]').waitFor({ timeout: LIVE_MS });
    expect(await page.textContent('#relay-state')).to.equal('ready');
    expect(await page.evaluate("sessionStorage.getItem('mcpmux.token')")).to.equal(TOKEN);
    expect(page.url()).not.to.contain(TOKEN);
    expect(await page.isHidden('#auth')).to.equal(true);
    await shot('2-services');
  });

  it('shows a session opened by another client live, and drops it when it closes', async () => {
    const ws = await connectWs(relay.ws('/ws'), 'mcpmux.v1', { headers: bearer(TOKEN) });
    try {
      ws.send({ type: 'open', channel: 'c1', service: 'fixture' });
      const opened = await ws.next();
      expect(opened.type).to.equal('opened');
      ws.send({
        type: 'message',
        channel: 'c1',
        message: { jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS },
      });
      await ws.next();
      const row = page.locator(`tr[data-session="${opened.session as string}"]`);
      await row.waitFor({ timeout: LIVE_MS });
      expect(await row.textContent()).to.contain('fixture');
      const sessions = 'tr[data-service="fixture"] td.sessions';
      await expectText(page, sessions, '1');
      await shot('3-session-live');
      ws.send({ type: 'close', channel: 'c1' });
      await row.waitFor({ state: 'detached', timeout: LIVE_MS });
      await expectText(page, sessions, '0');
    } finally {
      ws.ws.close();
    }
  });

  it('runs a tool from the playground with its progress, then closes the session', async () => {
    await page.selectOption('#pg-service', 'fixture');
    await page.click('#pg-open');
    await page.locator('#pg-tools button[data-tool="progress"]').waitFor({ timeout: LIVE_MS });
    const id = await page.getAttribute('#pg-status', 'data-session');
    expect(id).to.be.a('string');
    await page.locator(`tr[data-session="${id!}"]`).waitFor({ timeout: LIVE_MS });

    await page.click('#pg-tools button[data-tool="echo"]');
    await page.fill('#pg-fields [name="text"]', 'hello from chromium');
    await page.click('#pg-call');
    await expectText(page, '#pg-result', 'hello from chromium');

    await page.click('#pg-tools button[data-tool="progress"]');
    await page.fill('#pg-fields [name="steps"]', '3');
    await page.fill('#pg-fields [name="ms"]', '20');
    await page.click('#pg-call');
    await expectText(page, '#pg-result', 'done 3');
    const events = await page.locator('#pg-events li').allTextContents();
    expect(events.filter((e) => e.startsWith('progress '))).to.have.length(3);
    await shot('4-playground');

    await page.click('#pg-close');
    await page
      .locator(`tr[data-session="${id!}"]`)
      .waitFor({ state: 'detached', timeout: LIVE_MS });
    expect(await page.isEnabled('#pg-open')).to.equal(true);
    await shot('5-closed');
  });
});

const expectText = (page: Page, selector: string, text: string) =>
  textIn(page, selector, text, LIVE_MS);
