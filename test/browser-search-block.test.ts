// The web app's message search and blocking (v1.2) in a real browser (Debian's Chromium through
// playwright-core, as test/browser-app.test.ts): Alice at desktop width, Bob at phone width.
// A result shows its highlighted words and opens its conversation at that message (paging back
// to it); Block / Unblock in a dialog's header, and a blocked dialog says so in place of the
// composer. Screenshots of each step go to test-results/browser-search-block/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useRelay, ok } from './helpers/protocol.js';
import { Client } from './helpers/client.js';
import { skipWithoutChromium as skip, signUpInApp, useBrowser } from './helpers/browser.js';

const fx = useRelay('browser_search_block', { AUTH_RATE_PER_MINUTE: '100000' });
let alice: Page;
let bob: Page;
const browser = useBrowser('browser-search-block', [{ width: 1100, height: 760 }, { width: 390, height: 780 }], (pages) => { [alice, bob] = pages as [Page, Page]; });
const pageErrors = browser.errors;
const shot = (name: string, page: Page): Promise<void> => browser.shot(name, page);

async function signUp(page: Page, name: string): Promise<{ id: number; token: string }> {
  await signUpInApp(page, fx.relay.http, name);
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('relay.session'))) ?? '{}') as { token: string; user: { id: number } };
  return { id: session.user.id, token: session.token };
}

const msg = (page: Page, text: string) => page.locator('.messages li.msg', { hasText: text });
const hit = (page: Page, text: string) => page.locator('.message-results button.hit', { hasText: text });

async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    const list = el.closest('.messages')!.getBoundingClientRect();
    return r.top >= list.top - 1 && r.bottom <= list.bottom + 1;
  });
}

test('search: results show the highlighted words and open the conversation at that message (desktop, then phone)', { skip }, async () => {
  const a = await signUp(alice, 'Alice');
  const b = await signUp(bob, 'Bob');
  // Bob's other device writes a long dialog: the match is older than the first page Alice loads.
  const bobDevice = await Client.connect(fx.relay.ws, b.token);
  const target = await ok(bobDevice, 'privateMessage', { receiverId: a.id, content: 'Привет, Алиса! The quarterly REPORT is ready' });
  for (let i = 1; i <= 40; i++) await ok(bobDevice, 'privateMessage', { receiverId: a.id, content: `Filler line ${i}` });
  bobDevice.ws.close();

  await alice.locator('#message-search').fill('прив rep');
  const result = hit(alice, 'quarterly');
  await result.waitFor();
  assert.deepEqual(await result.locator('mark').allTextContents(), ['Привет', 'REPORT']);
  assert.equal(await result.locator('.where').textContent(), 'Bob');
  assert.equal(await result.getAttribute('data-message'), String(target.id));
  await shot('alice-search-results', alice);
  // Only beginnings of words match.
  await alice.locator('#message-search').fill('ivet');
  await alice.locator('.message-results .empty', { hasText: 'No messages found' }).waitFor();
  await alice.locator('#message-search').fill('прив rep');
  await result.click();
  await alice.getByRole('heading', { name: 'Bob' }).waitFor();
  const found = `.messages li.msg[data-id="${target.id}"]`;
  await alice.locator(`${found}.found`).waitFor();
  assert.ok(await inViewport(alice, found), 'the found message is scrolled into view');
  assert.ok(await alice.locator('.messages li.msg').count() > 30, 'older pages were loaded to reach it');
  await shot('alice-opened-at-message', alice);

  // Phone width: Bob finds Alice's reply in a group; its conversation fills the screen there.
  await alice.locator('#new-group').fill('Plans');
  await alice.getByRole('button', { name: 'Create group' }).click();
  await alice.getByRole('heading', { name: '# Plans' }).waitFor();
  await alice.locator('#search').fill('Bob');
  await alice.locator('.results li', { hasText: 'Bob' }).getByRole('button', { name: 'Add to Plans' }).click();
  await alice.locator('#composer').fill('Weekend hiking, anyone?');
  await alice.locator('#composer').press('Enter');
  await msg(alice, 'Weekend hiking').locator('[data-status="sent"]').waitFor();
  await bob.locator('#message-search').fill('HIK week');
  const groupHit = hit(bob, 'Weekend hiking');
  await groupHit.waitFor();
  assert.deepEqual(await groupHit.locator('mark').allTextContents(), ['Weekend', 'hiking']);
  assert.equal(await groupHit.locator('.where').textContent(), '# Plans');
  await shot('bob-phone-search-results', bob);
  await groupHit.click();
  await bob.getByRole('heading', { name: '# Plans' }).waitFor();
  await bob.locator('.messages li.msg.found', { hasText: 'Weekend hiking' }).waitFor();
  await bob.locator('.side').waitFor({ state: 'hidden' });
  await shot('bob-phone-opened-at-message', bob);
  await bob.getByRole('button', { name: 'Back to chats' }).click();
  assert.deepEqual(pageErrors, [], 'no page errors');
});

test('blocking: Block in the dialog header; the blocked dialog says so instead of the composer; the other side\'s send fails; Unblock', { skip }, async () => {
  const aliceChat = alice.locator('.chats button.chat').filter({ has: alice.locator('.name').getByText('Bob', { exact: true }) });
  await aliceChat.click();
  await alice.getByRole('heading', { name: 'Bob' }).waitFor();
  await alice.getByRole('button', { name: 'Block Bob' }).click();
  await alice.locator('.blocked-note', { hasText: 'You blocked Bob' }).waitFor();
  assert.equal(await alice.locator('#composer').count(), 0, 'no composer in a blocked dialog');
  await shot('alice-blocked-bob', alice);

  // Bob (phone) writes to Alice: refused, and shown as not sent with the protocol's reason.
  const bobChat = bob.locator('.chats button.chat').filter({ has: bob.locator('.name').getByText('Alice', { exact: true }) });
  await bobChat.click();
  await bob.getByRole('heading', { name: 'Alice' }).waitFor();
  await bob.locator('#composer').fill('Are you ignoring me?');
  await bob.locator('#composer').press('Enter');
  const failed = msg(bob, 'Are you ignoring me?').locator('[data-status="not sent"]');
  await failed.waitFor();
  assert.match(await failed.getAttribute('aria-label') ?? '', /This user does not accept your messages/);
  await bob.locator('.banner', { hasText: 'This user does not accept your messages' }).waitFor();
  await shot('bob-phone-send-refused', bob);
  assert.equal(await msg(alice, 'Are you ignoring me?').count(), 0);

  // Alice unblocks from the notice: the composer is back, and Bob's next message arrives.
  await alice.locator('.blocked-note').getByRole('button', { name: 'Unblock' }).click();
  await alice.locator('#composer').waitFor();
  await alice.getByRole('button', { name: 'Block Bob' }).waitFor();
  await bob.locator('#composer').fill('Hello again');
  await bob.locator('#composer').press('Enter');
  await msg(alice, 'Hello again').waitFor();
  await shot('alice-unblocked', alice);

  // At phone width, Bob blocks Alice from the header and unblocks her.
  await bob.getByRole('button', { name: 'Block Alice' }).click();
  await bob.locator('.blocked-note', { hasText: 'You blocked Alice' }).waitFor();
  await shot('bob-phone-blocked-alice', bob);
  await bob.getByRole('button', { name: 'Unblock Alice' }).click();
  await bob.locator('#composer').waitFor();
  assert.deepEqual(pageErrors, [], 'no page errors');
});
