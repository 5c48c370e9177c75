// The browser tests' shared setup: Debian's Chromium driven by playwright-core (no browser download),
// skipped with the reason when it is missing, except under CI=true or REQUIRE_BROWSER_TESTS=1
// (.ci/run installs Chromium first), where the file fails; and pages that fail their test on any
// page error (CSP violation, exception) instead of passing unseen.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
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

export interface BrowserRun {
  browser: Browser;
  /** Page errors and console errors of every page opened (a CSP violation lands here). */
  errors: string[];
  open(opts?: BrowserContextOptions): Promise<Page>;
  shot(name: string, page: Page): Promise<void>;
}

/** Chromium with its pages' errors collected, and screenshots per step in test-results/<folder>/ (gitignored). */
export async function launchBrowser(folder: string): Promise<BrowserRun> {
  const shots = path.resolve('test-results', folder);
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const browser = await launchChromium();
  const errors: string[] = [];
  let step = 0;
  return {
    browser, errors,
    open: (opts = {}) => openPage(browser, errors, { acceptDownloads: true, ...opts }),
    async shot(name, page) {
      step++;
      await page.screenshot({ path: path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`) });
    },
  };
}

/** Signs up through the web app's form and waits until its socket is open. */
export async function signUpInApp(page: Page, base: string, name: string): Promise<void> {
  await page.goto(`${base}/app/`);
  await page.getByRole('heading', { name: 'Log in to Relay' }).waitFor();
  await page.getByRole('button', { name: 'No account? Sign up' }).click();
  await page.locator('#auth-email').fill(`${name.toLowerCase()}.${Date.now()}@example.com`);
  await page.locator('#auth-password').fill('password123');
  await page.locator('#auth-first').fill(name);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.locator('.state[data-state="open"]').waitFor();
}

/** A chat list entry by its exact name ("Bob", "# Weekend"), not by its last message. */
export const chatNamed = (page: Page, name: string) =>
  page.locator('.chats button.chat').filter({ has: page.locator('.name').getByText(name, { exact: true }) });

export async function openDialogWith(page: Page, name: string): Promise<void> {
  await page.locator('#search').fill(name);
  await page.locator('.results li', { hasText: name }).getByRole('button', { name: 'Message' }).click();
  await page.getByRole('heading', { name }).waitFor();
}
