// The web app's notification parts in headless Chromium (playwright-core, Debian's Chromium): the
// service worker registers from the app's own origin under its CSP; given a push (CDP
// ServiceWorker.deliverPushMessage, the payload the server sends) it shows a notification with the
// sender and preview (read back with registration.getNotifications()); a click on it (dispatched
// in the worker: headless Chromium shows no notification to click) opens the conversation in the
// open app; the Notifications switch asks permission and subscribes; the mute menu in a
// conversation's header, and the muted mark in the chat list.
// What headless Chromium cannot do: it has no push service, so pushManager.subscribe() cannot get
// a real endpoint, and it never displays a notification a user could click. The server's side of a
// subscription and real Web Push delivery are covered by push-*.test.ts and sdk-push.test.ts. (Its
// subscribe() answers "Registration failed - permission denied" even with notifications granted.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { useRelay } from './helpers/protocol.js';
import { Client, http } from './helpers/client.js';
import { pushEnv } from './helpers/push.js';
import { eventually } from './helpers/kit.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && (process.env.CI === 'true' || process.env.REQUIRE_BROWSER_TESTS === '1')) throw new Error(`browser tests must run in CI: ${missing}`);
const skip = missing ?? false;

const fx = useRelay('browser_push', pushEnv());
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (missing) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

/** The browser context and page, made once the relay is up (its origin gets the permission). */
async function openPage(): Promise<void> {
  context = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
  await context.grantPermissions(['notifications'], { origin: fx.relay.http });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => { pageErrors.push(`${err.name}: ${err.message}`); });
  page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
}
async function account(name: string): Promise<{ token: string; user: { id: number; firstName: string } }> {
  const res = await http(fx.relay.http, 'POST', '/auth/sign-up', { body: { email: `${name.toLowerCase()}.${Date.now()}@example.com`, password: 'password123', firstName: name } });
  assert.equal(res.status, 201);
  return res.body;
}

const notifications = (p: Page) => p.evaluate(async () => {
  const reg = await navigator.serviceWorker.ready;
  return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown }));
});

test('the service worker registers; a push shows a notification; clicking it opens the conversation; mute menu and muted mark', { skip }, async () => {
  await openPage();
  const ann = await account('Ann');
  const bob = await account('Bob');
  const bobWs = await Client.connect(fx.relay.ws, bob.token);
  const sent = await bobWs.request('privateMessage', { receiverId: ann.user.id, content: 'Are you coming tonight?' });
  await bobWs.close();

  await page.goto(`${fx.relay.http}/app/`);
  await page.evaluate((s) => localStorage.setItem('relay.session', JSON.stringify(s)), ann);
  await page.reload();
  await page.locator('.state[data-state="open"]').waitFor();
  const sw = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  assert.equal(sw, `${fx.relay.http}/app/sw.js`, 'the worker is the app\'s own, same origin');
  const swRes = await http<string>(fx.relay.http, 'GET', '/app/sw.js');
  assert.match(swRes.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(swRes.headers.get('content-security-policy') ?? '', /worker-src 'self'/);

  // A push, as the server's payload (the browser's push service would hand it to the worker).
  const cdp = await context.newCDPSession(page);
  const registrationId = await new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const r = registrations.find((x) => x.scopeURL === `${fx.relay.http}/app/` && !x.isDeleted);
      if (r) resolve(r.registrationId);
    });
    void cdp.send('ServiceWorker.enable');
  });
  const payload = {
    type: 'message', id: sent.params.data.id, seq: 1, senderId: bob.user.id, senderName: 'Bob', receiverId: ann.user.id,
    groupId: null, groupName: null, preview: 'Are you coming tonight?', unreadCount: 1,
  };
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: fx.relay.http, registrationId, data: JSON.stringify(payload) });
  await eventually('the notification is shown', async () => (await notifications(page)).length === 1);
  const [shown] = await notifications(page);
  assert.deepEqual(shown, {
    title: 'Bob', body: 'Are you coming tonight?', tag: `d${bob.user.id}`,
    data: { chat: `d${bob.user.id}`, url: `${fx.relay.http}/app/#d${bob.user.id}` },
  });

  // The click, dispatched in the worker: the open app opens Bob's conversation.
  const worker = context.serviceWorkers().find((w) => w.url().endsWith('/app/sw.js'));
  assert.ok(worker, 'playwright sees the worker');
  await worker.evaluate(async () => {
    const scope = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
    const [n] = await scope.registration.getNotifications();
    const Ctor = (globalThis as unknown as { NotificationEvent: new (type: string, init: { notification: Notification }) => Event }).NotificationEvent;
    scope.dispatchEvent(new Ctor('notificationclick', { notification: n! }));
  });
  await page.getByRole('heading', { name: 'Bob' }).waitFor();
  assert.equal((await notifications(page)).length, 0, 'the clicked notification is closed');

  // Mute for 8 hours from the header; the chat list marks it; unmute.
  await page.locator('.mute-menu summary').click();
  await page.getByRole('menuitem', { name: 'Mute 8 hours' }).click();
  await page.locator('.chats .muted-mark').waitFor();
  await page.locator('.mute-menu summary', { hasText: 'Muted until' }).waitFor();
  await page.locator('.mute-menu summary').click();
  await page.getByRole('menuitem', { name: 'Unmute' }).click();
  await page.locator('.chats .muted-mark').waitFor({ state: 'detached' });
  await page.locator('.mute-menu summary').click();
  await page.getByRole('menuitem', { name: 'Mute for ever' }).click();
  await page.locator('.mute-menu summary', { hasText: /^🔕 Muted$/ }).waitFor();

  // A deep link from a notification with no open window (openWindow's URL) opens the chat too.
  await page.goto(`${fx.relay.http}/app/#d${bob.user.id}`);
  await page.getByRole('heading', { name: 'Bob' }).waitFor();
  assert.deepEqual(pageErrors, [], 'no page errors, no CSP violation');
});

test('the Notifications switch asks permission and subscribes; headless Chromium has no push service, so it says so and turns back off', { skip }, async () => {
  const sw = page.locator('#notifications');
  assert.equal(await sw.isChecked(), false);
  await sw.check({ force: true }).catch(() => undefined);
  await eventually('the switch settled', async () => !(await sw.isDisabled()));
  const permission = await page.evaluate(() => Notification.permission);
  assert.equal(permission, 'granted');
  const banner = page.locator('.error.banner');
  await banner.waitFor();
  const said = await banner.innerText();
  assert.match(said, /^Notifications: /);
  console.log(`# the switch said: ${said}`);
  assert.equal(await sw.isChecked(), false, 'not subscribed: the switch is off again');
});
