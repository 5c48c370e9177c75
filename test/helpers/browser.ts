// The browser tests' shared setup: Debian's Chromium driven by playwright-core (no browser download),
// skipped with the reason when it is missing, except under CI=true or REQUIRE_BROWSER_TESTS=1
// (.ci/run installs Chromium first), where the file fails; and pages that fail their test on any
// page error (CSP violation, exception) instead of passing unseen.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && (process.env.CI === 'true' || process.env.REQUIRE_BROWSER_TESTS === '1')) throw new Error(`browser tests must run in CI: ${missing}`);

/** node:test's `skip` for a browser test: the reason, or false. */
export const browserSkip: string | false = missing ?? false;

/** Starts Chromium headless with a fresh temporary profile (playwright makes one per launch). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page in a context of its own (1100×760 unless `opts` say otherwise) whose errors land in `errors`. */
export async function openPage(browser: Browser, errors: string[], opts: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...opts });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => { errors.push(`${err.name}: ${err.message}`); });
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  return page;
}
