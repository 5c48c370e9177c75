// The browser tests' shared setup: Debian's Chromium driven by playwright-core (no browser
// download: the system's executable), pages that turn page errors (CSP violation, exception) into
// test failures instead of passing unseen, and a screenshot of each step. Without Chromium the
// tests are skipped with the reason, except under CI=true or REQUIRE_BROWSER_TESTS=1 (.ci/run,
// which installs Chromium first): there the file fails.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { before, after } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && (process.env.CI === 'true' || process.env.REQUIRE_BROWSER_TESTS === '1')) throw new Error(`browser tests must run in CI: ${missing}`);

/** node:test's `skip` option for a browser test: the reason Chromium is missing, or false. */
export const browserSkip: string | false = missing ?? false;
export const skipWithoutChromium = browserSkip;

/** playwright starts Chromium with a fresh temporary profile (user-data-dir) of its own each launch. */
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

/** Numbered screenshots into test-results/<folder>/ (emptied first; gitignored). */
export function screenshots(folder: string): (name: string, page: Page) => Promise<void> {
  const dir = path.resolve('test-results', folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let step = 0;
  return async (name, page) => {
    step++;
    await page.screenshot({ path: path.join(dir, `${String(step).padStart(2, '0')}-${name}.png`) });
  };
}

export interface BrowserFixture {
  /** One page per viewport asked for, each in a context of its own (ready in `before`). */
  readonly pages: Page[];
  /** Page errors and console errors of every page, for a test to assert empty. */
  readonly errors: string[];
  shot(name: string, page: Page): Promise<void>;
}

/**
 * Registers node:test hooks: `before` launches Chromium (unless it is missing) and opens a page per
 * viewport; `after` closes the browser. Screenshots go to test-results/<folder>/.
 */
export function useBrowser(
  folder: string,
  viewports: { width: number; height: number }[],
  /** Called in `before` with the pages, in the order of `viewports`. */
  ready: (pages: Page[]) => void,
): BrowserFixture {
  let browser: Browser | undefined;
  let shot: (name: string, page: Page) => Promise<void> = async () => undefined;
  const fixture: BrowserFixture = { pages: [], errors: [], shot: (name, page) => shot(name, page) };
  before(async () => {
    if (skipWithoutChromium) return;
    shot = screenshots(folder);
    browser = await launchChromium();
    for (const viewport of viewports) fixture.pages.push(await openPage(browser, fixture.errors, { viewport }));
    ready(fixture.pages);
  });
  after(async () => { await browser?.close(); });
  return fixture;
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
