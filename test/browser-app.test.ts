// The web app at /app/ in a real browser: Debian's Chromium driven by playwright-core (no browser
// download: the system's executable). Two users in two browser contexts. A screenshot of every
// step goes to test-results/browser/ (gitignored). Without Chromium the tests are skipped with
// the reason, except under CI=true or REQUIRE_BROWSER_TESTS=1 (.ci/run, which installs
// Chromium first): there the file fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { useRelay, ok } from './helpers/protocol.js';
import { Client } from './helpers/client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-results/browser');
const missing = existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && (process.env.CI === 'true' || process.env.REQUIRE_BROWSER_TESTS === '1')) throw new Error(`browser tests must run in CI: ${missing}`);
const skip = missing ?? false;

const fx = useRelay('browser_app', { AUTH_RATE_PER_MINUTE: '100000' });
let browser: Browser | undefined;
let alice: Page;
let bob: Page;
let step = 0;

before(async () => {
  if (missing) return;
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  // playwright starts Chromium with a fresh temporary profile (user-data-dir) of its own each launch.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const open = async (): Promise<Page> => {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // A page error (CSP violation, exception) fails the test instead of passing unseen.
    page.on('pageerror', (err) => { pageErrors.push(`${err.name}: ${err.message}`); });
    page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
    return page;
  };
  alice = await open();
  bob = await open();
});
after(async () => { await browser?.close(); });

const pageErrors: string[] = [];

async function shot(name: string, page: Page): Promise<void> {
  step++;
  await page.screenshot({ path: path.join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`) });
}

async function signUp(page: Page, name: string): Promise<void> {
  await page.goto(`${fx.relay.http}/app/`);
  await page.getByRole('heading', { name: 'Log in to Relay' }).waitFor();
  await page.getByRole('button', { name: 'No account? Sign up' }).click();
  await page.locator('#auth-email').fill(`${name.toLowerCase()}.${Date.now()}@example.com`);
  await page.locator('#auth-password').fill('password123');
  await page.locator('#auth-first').fill(name);
  await shot(`${name.toLowerCase()}-sign-up-form`, page);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.locator('.state[data-state="open"]').waitFor();
  await shot(`${name.toLowerCase()}-signed-in`, page);
}

const msg = (page: Page, text: string) => page.locator('.messages li.msg', { hasText: text });
/** A chat list entry by its exact name ("Bob", "# Weekend"), not by its last message. */
const chatNamed = (page: Page, name: string) =>
  page.locator('.chats button.chat').filter({ has: page.locator('.name').getByText(name, { exact: true }) });

async function openDialogWith(page: Page, name: string): Promise<void> {
  await page.locator('#search').fill(name);
  await page.locator('.results li', { hasText: name }).getByRole('button', { name: 'Message' }).click();
  await page.getByRole('heading', { name }).waitFor();
}

test('v1: two users sign up, find each other, chat both ways, create a group and add the other', { skip }, async () => {
  await signUp(alice, 'Alice');
  await signUp(bob, 'Bob');

  await alice.locator('#search').fill('Bob');
  await alice.locator('.results li', { hasText: 'Bob' }).waitFor();
  await shot('alice-finds-bob', alice);
  await openDialogWith(alice, 'Bob');

  await alice.locator('#composer').fill('Hello Bob');
  await alice.locator('#composer').press('Enter');
  await msg(alice, 'Hello Bob').locator('[data-status="sent"], [data-status="read"]').waitFor();
  await shot('alice-sent-hello', alice);

  // Bob's chat list shows the new dialog with its last message.
  const chat = chatNamed(bob, 'Alice');
  await chat.locator('.last', { hasText: 'Hello Bob' }).waitFor();
  await shot('bob-chat-list', bob);
  await chat.click();
  await msg(bob, 'Hello Bob').waitFor();
  await bob.locator('#composer').fill('Hi Alice!');
  await bob.locator('#composer').press('Enter');
  await msg(alice, 'Hi Alice!').waitFor();
  await shot('alice-gets-reply', alice);
  await shot('bob-dialog', bob);

  await alice.locator('#new-group').fill('Weekend');
  await alice.getByRole('button', { name: 'Create group' }).click();
  await alice.getByRole('heading', { name: '# Weekend' }).waitFor();
  await alice.locator('#search').fill('Bob');
  await alice.locator('.results li', { hasText: 'Bob' }).getByRole('button', { name: 'Add to Weekend' }).click();
  const groupChat = chatNamed(bob, '# Weekend');
  await groupChat.waitFor();
  await shot('bob-added-to-group', bob);
  await groupChat.click();
  await bob.getByRole('heading', { name: '# Weekend' }).waitFor();
  await bob.locator('#composer').fill('Count me in');
  await bob.locator('#composer').press('Enter');
  await msg(alice, 'Count me in').waitFor();
  await alice.locator('.messages li.msg .who', { hasText: 'Bob' }).waitFor();
  await shot('alice-group-message', alice);

  // A long dialog: the newest page first, older messages as Alice scrolls up.
  const session = JSON.parse((await bob.evaluate(() => localStorage.getItem('relay.session'))) ?? '{}') as { token: string; user: { id: number } };
  const aliceId = JSON.parse((await alice.evaluate(() => localStorage.getItem('relay.session'))) ?? '{}').user.id as number;
  const bobOtherDevice = await Client.connect(fx.relay.ws, session.token);
  for (let i = 1; i <= 40; i++) await ok(bobOtherDevice, 'privateMessage', { receiverId: aliceId, content: `Line ${i}` });
  bobOtherDevice.ws.close();
  await chatNamed(alice, 'Bob').click();
  await msg(alice, 'Line 40').waitFor();
  assert.equal(await msg(alice, 'Hello Bob').count(), 0, 'the oldest messages are not loaded yet');
  assert.equal(await alice.locator('.messages li.msg').count(), 30, 'one page');
  await alice.locator('.messages').evaluate((el) => { el.scrollTop = 0; });
  await msg(alice, 'Hello Bob').waitFor();
  assert.equal(await alice.locator('.messages li.msg').count(), 42);
  await shot('alice-scrolled-up-history', alice);
  assert.deepEqual(pageErrors.filter((e) => /Content Security Policy|Refused/.test(e)), [], 'no CSP violation');
});

test('v1.1: unread badge, presence dot, typing, double tick, edit, delete, members with roles, making an admin; phone width; leaving', { skip }, async () => {
  // Back to the dialog: Alice writes while Bob looks at the group, so Bob sees an unread badge.
  await openDialogWith(alice, 'Bob');
  await alice.locator('.presence.online').waitFor();
  await alice.locator('#composer').fill('Are you there?');
  await alice.locator('#composer').press('Enter');
  const aliceChat = chatNamed(bob, 'Alice');
  await aliceChat.locator('.badge', { hasText: '1' }).waitFor();
  await shot('bob-unread-badge', bob);
  await msg(alice, 'Are you there?').locator('[data-status="sent"]').waitFor();

  // Bob opens it: read receipt, Alice's message gets the double tick.
  await aliceChat.click();
  await msg(bob, 'Are you there?').waitFor();
  await msg(alice, 'Are you there?').locator('[data-status="read"]').waitFor();
  assert.equal(await msg(alice, 'Are you there?').locator('.status').textContent(), '✓✓');
  await shot('alice-double-tick', alice);
  await aliceChat.locator('.badge').waitFor({ state: 'detached' });

  // Bob types: Alice sees it.
  await bob.locator('#composer').pressSequentially('Yes, I am', { delay: 20 });
  await alice.locator('.typing', { hasText: 'Bob is typing…' }).waitFor();
  await shot('alice-sees-typing', alice);
  await bob.locator('#composer').press('Enter');
  await msg(alice, 'Yes, I am').waitFor();

  // Alice edits, then deletes her message; Bob sees both.
  // Message actions show on hover (or keyboard focus, or a long press on a phone), not permanently.
  await msg(alice, 'Are you there?').hover();
  await msg(alice, 'Are you there?').getByRole('button', { name: 'Edit message' }).click();
  await alice.locator('.edit-bar').waitFor();
  await alice.locator('#composer').fill('Are you still there?');
  await alice.locator('#composer').press('Enter');
  await msg(bob, 'Are you still there?').locator('.edited').waitFor();
  await shot('bob-sees-edit', bob);
  await msg(alice, 'Are you still there?').hover();
  await msg(alice, 'Are you still there?').getByRole('button', { name: 'Delete message' }).click();
  await msg(bob, 'Message deleted').waitFor();
  assert.equal(await msg(bob, 'Are you still there?').count(), 0);
  await shot('bob-sees-delete', bob);

  // The group's member list with roles.
  await chatNamed(bob, '# Weekend').click();
  await bob.getByRole('button', { name: 'Members' }).click();
  const members = bob.locator('.members');
  await members.locator('li', { hasText: 'Alice' }).locator('.role', { hasText: 'owner' }).waitFor();
  await members.locator('li', { hasText: 'Bob (you)' }).locator('.role', { hasText: 'member' }).waitFor();
  await shot('bob-members', bob);

  // The owner makes Bob an admin: Bob's member list follows.
  await chatNamed(alice, '# Weekend').click();
  await alice.getByRole('button', { name: 'Members' }).click();
  await alice.locator('.members li', { hasText: 'Bob' }).getByRole('button', { name: 'Make admin' }).click();
  await members.locator('li', { hasText: 'Bob (you)' }).locator('.role', { hasText: 'admin' }).waitFor();
  await shot('bob-made-admin', bob);

  // Phone width: the open conversation fills the screen; Back shows the chat list.
  await alice.setViewportSize({ width: 390, height: 780 });
  await alice.locator('.side').waitFor({ state: 'hidden' });
  await shot('alice-phone-conversation', alice);
  await alice.getByRole('button', { name: 'Back to chats' }).click();
  await alice.locator('.side').waitFor({ state: 'visible' });
  await shot('alice-phone-chat-list', alice);

  // Bob leaves the group: it leaves his chat list.
  await bob.getByRole('button', { name: 'Leave group' }).click();
  await chatNamed(bob, '# Weekend').waitFor({ state: 'detached' });
  await shot('bob-left-group', bob);

  for (const page of [alice, bob]) assert.equal(await page.locator('.banner').isVisible(), false, `no error shown: ${await page.locator('.banner').textContent()}`);
  assert.deepEqual(pageErrors, [], 'no page errors');
});
