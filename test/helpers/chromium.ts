// Debian's chromium driven by playwright-core (no browser download): a fresh profile per launch,
// removed on close. CHROMIUM is where the Debian package installs it; tests skip without it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `no Debian chromium at ${CHROMIUM} (apt-get install chromium)`;

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'mcpmux-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the text of the element `selector` contains `text` (the page updates on its own). */
export async function expectText(
  page: Page,
  selector: string,
  text: string,
  timeoutMs = 10_000,
): Promise<void> {
  // A locator, not waitForFunction: the dashboard's CSP forbids eval, which a polled string
  // predicate needs in the page.
  try {
    await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: timeoutMs });
  } catch {
    const last = await page.textContent(selector);
    throw new Error(`expected "${text}" in ${selector}, found "${last ?? ''}"`);
  }
}
