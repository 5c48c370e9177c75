// The web app's v1.2 conversations in a real browser (Debian's Chromium via playwright-core, as in
// browser-app.test.ts): replying (the quote above the composer and above the sent message; a click
// on the quote goes to the original, loading older pages), `@` suggestions in a group's composer
// and the `@` badge in the chat list, reactions (a picker, chips that toggle one's own), pinned
// messages in a bar at the top; message actions only on hover, keyboard focus, or a long press on
// a phone. At desktop and phone width. Screenshots go to test-results/browser-conversations/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { useRelay, ok } from './helpers/protocol.js';
import { Client, sleep } from './helpers/client.js';
import { browserSkip as skip, launchChromium, openPage } from './helpers/browser.js';

const SHOTS = path.resolve('test-results/browser-conversations');

const fx = useRelay('browser_conversations', { AUTH_RATE_PER_MINUTE: '100000' });
let browser: Browser | undefined;
let alice: Page;
let bob: Page;
let step = 0;
const pageErrors: string[] = [];
const accounts = new Map<string, { email: string; id: number; token: string }>();

const open = (opts: BrowserContextOptions = {}): Promise<Page> => openPage(browser!, pageErrors, opts);

before(async () => {
  if (skip) return;
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  alice = await open();
  bob = await open();
});
after(async () => { await browser?.close(); });

async function shot(name: string, page: Page): Promise<void> {
  step++;
  await page.screenshot({ path: path.join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`) });
}

async function signUp(page: Page, name: string): Promise<void> {
  const email = `${name.toLowerCase()}.${Date.now()}@example.com`;
  await page.goto(`${fx.relay.http}/app/`);
  await page.getByRole('button', { name: 'No account? Sign up' }).click();
  await page.locator('#auth-email').fill(email);
  await page.locator('#auth-password').fill('password123');
  await page.locator('#auth-first').fill(name);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await page.locator('.state[data-state="open"]').waitFor();
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('relay.session'))) ?? '{}') as { token: string; user: { id: number } };
  accounts.set(name, { email, id: session.user.id, token: session.token });
}

/** A message by its own text (not by a quote of it in a reply). */
const msg = (page: Page, text: string) => page.locator('.messages li.msg').filter({ has: page.locator(':scope > .text', { hasText: text }) });
const chatNamed = (page: Page, name: string) =>
  page.locator('.chats button.chat').filter({ has: page.locator('.name').getByText(name, { exact: true }) });

async function openDialogWith(page: Page, name: string): Promise<void> {
  await page.locator('#search').fill(name);
  await page.locator('.results li', { hasText: name }).getByRole('button', { name: 'Message' }).click();
  await page.getByRole('heading', { name }).waitFor();
}

/** Whether the element's box is inside the message list's visible area. */
const inView = (page: Page, text: string) => msg(page, text).evaluate((el) => {
  const list = el.closest('.messages')!.getBoundingClientRect();
  const box = el.getBoundingClientRect();
  return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
});

test('replies: the quote above the composer and the sent message; a click on a quote goes to the original (older pages loaded)', { skip }, async () => {
  await signUp(alice, 'Alice');
  await signUp(bob, 'Bob');
  const a = accounts.get('Alice')!;
  const b = accounts.get('Bob')!;
  // Bob's other device: the original, 35 more lines, then a reply to the original.
  const bobDevice = await Client.connect(fx.relay.ws, b.token);
  const original = await ok(bobDevice, 'privateMessage', { receiverId: a.id, content: 'Where is the map?' });
  for (let i = 1; i <= 35; i++) await ok(bobDevice, 'privateMessage', { receiverId: a.id, content: `Filler ${i}` });
  await ok(bobDevice, 'privateMessage', { receiverId: a.id, content: 'Still need the map', replyToId: original.id });
  bobDevice.ws.close();

  await openDialogWith(alice, 'Bob');
  const late = msg(alice, 'Still need the map');
  await late.locator('.quote', { hasText: 'Where is the map?' }).waitFor();
  assert.equal(await msg(alice, 'Where is the map?').count(), 0, 'the original is not loaded yet');
  await shot('alice-reply-with-quote', alice);
  await late.locator('.quote').click();
  await msg(alice, 'Where is the map?').and(alice.locator('.msg.flash')).waitFor();
  assert.ok(await inView(alice, 'Where is the map?'), 'scrolled to the original');
  await shot('alice-jumped-to-original', alice);

  // Alice replies from the message's actions: the quote above the composer, then above her message.
  await msg(alice, 'Filler 35').hover();
  await msg(alice, 'Filler 35').getByRole('button', { name: 'Reply', exact: true }).click();
  const bar = alice.locator('.reply-bar');
  await bar.locator('.quote-text', { hasText: 'Filler 35' }).waitFor();
  assert.match(await bar.textContent() ?? '', /Replying to Bob/);
  await shot('alice-replying', alice);
  await alice.locator('#composer').fill('Here it is');
  await alice.locator('#composer').press('Enter');
  await msg(alice, 'Here it is').locator('.quote', { hasText: 'Filler 35' }).waitFor();
  await bar.waitFor({ state: 'hidden' });
  await chatNamed(bob, 'Alice').click();
  await msg(bob, 'Here it is').locator('.quote', { hasText: 'Filler 35' }).waitFor();
  await shot('bob-sees-reply', bob);

  // Escape drops a reply in progress.
  await msg(alice, 'Filler 34').hover();
  await msg(alice, 'Filler 34').getByRole('button', { name: 'Reply', exact: true }).click();
  await bar.waitFor();
  await alice.locator('#composer').press('Escape');
  await bar.waitFor({ state: 'hidden' });
});

test('message actions: hidden until hover or keyboard focus; reactions picker and chips toggle one\'s own; both sides see counts', { skip }, async () => {
  const target = msg(alice, 'Filler 33');
  await alice.mouse.move(5, 5);
  assert.equal(await target.locator('.actions').isVisible(), false, 'no permanent buttons');
  // Keyboard: focus the message list, Tab moves through the messages; the focused one shows its actions.
  // Keyboard: from the message before it, Tab walks through that one's actions, then to this message.
  await target.focus();
  await alice.keyboard.press('Shift+Tab');
  for (let i = 0; i < 6 && !(await target.evaluate((el) => el === document.activeElement)); i++) await alice.keyboard.press('Tab');
  assert.ok(await target.evaluate((el) => el === document.activeElement && el.matches(':focus-visible')), 'the message has keyboard focus');
  await target.locator('.actions').waitFor({ state: 'visible' });
  await alice.keyboard.press('Tab');
  assert.equal(await alice.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Reply');
  await target.locator('.actions').waitFor({ state: 'visible' });
  await shot('alice-keyboard-actions', alice);
  await alice.keyboard.press('Tab');
  await alice.keyboard.press('Enter');
  await target.locator('.picker').waitFor();
  await shot('alice-reaction-picker', alice);
  await target.getByRole('menuitem', { name: 'React with 👍' }).click();
  const aliceChip = target.locator('.chip[data-emoji="👍"]');
  await aliceChip.and(alice.locator('[aria-pressed="true"]')).waitFor();
  assert.equal((await aliceChip.textContent())?.trim(), '👍 1');

  const bobChip = msg(bob, 'Filler 33').locator('.chip[data-emoji="👍"]');
  await bobChip.and(bob.locator('[aria-pressed="false"]')).waitFor();
  assert.equal((await bobChip.textContent())?.trim(), '👍 1');
  await bobChip.click();
  await bobChip.and(bob.locator('[aria-pressed="true"]')).waitFor();
  await alice.locator('.msg', { hasText: 'Filler 33' }).locator('.chip', { hasText: '👍 2' }).and(alice.locator('[aria-pressed="true"]')).waitFor();
  await shot('bob-reacted-too', bob);
  // Alice takes hers back: one left, Bob's; she no longer holds it.
  await aliceChip.click();
  await aliceChip.and(alice.locator('[aria-pressed="false"]')).filter({ hasText: '👍 1' }).waitFor();
  await bobChip.filter({ hasText: '👍 1' }).and(bob.locator('[aria-pressed="true"]')).waitFor();
  await shot('alice-reaction-removed', alice);
});

test('pins: pinned messages in a bar at the top of the conversation on both sides; the bar goes to the message; unpin', { skip }, async () => {
  await msg(alice, 'Filler 10').scrollIntoViewIfNeeded();
  await msg(alice, 'Filler 10').hover();
  await msg(alice, 'Filler 10').getByRole('button', { name: 'Pin message' }).click();
  const aliceBar = alice.locator('.pinned-bar');
  await aliceBar.locator('.pinned-text', { hasText: 'Filler 10' }).waitFor();
  const bobBar = bob.locator('.pinned-bar');
  await bobBar.locator('.pinned-text', { hasText: 'Filler 10' }).waitFor();
  await msg(bob, 'Filler 10').locator('.pinned-mark').waitFor();
  await shot('bob-pinned-bar', bob);
  await bob.locator('.messages').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await bobBar.locator('button.pinned').click();
  await msg(bob, 'Filler 10').and(bob.locator('.msg.flash')).waitFor();
  assert.ok(await inView(bob, 'Filler 10'));
  // Bob pins another: the newest pin first, the bar says how many.
  await msg(bob, 'Filler 11').hover();
  await msg(bob, 'Filler 11').getByRole('button', { name: 'Pin message' }).click();
  await aliceBar.getByRole('button', { name: '2 pinned' }).waitFor();
  assert.match(await aliceBar.locator('.pinned-text').first().textContent() ?? '', /Filler 11/);
  await shot('alice-two-pins', alice);
  await aliceBar.getByRole('button', { name: 'Unpin message' }).click();
  await bobBar.locator('.pinned-text', { hasText: 'Filler 11' }).waitFor({ state: 'detached' });
  await bobBar.locator('.pinned-text', { hasText: 'Filler 10' }).waitFor();
});

test('mentions: `@` suggests group members and inserts the mention; an `@` badge beside the unread badge; members cannot pin', { skip }, async () => {
  const a = accounts.get('Alice')!;
  const b = accounts.get('Bob')!;
  const aliceDevice = await Client.connect(fx.relay.ws, a.token);
  const g = await ok(aliceDevice, 'newGroup', { groupName: 'Crew' });
  await ok(aliceDevice, 'addUserInGroup', { groupId: g.groupId, userId: b.id });
  aliceDevice.ws.close();
  await chatNamed(alice, '# Crew').click();
  await alice.locator('.subtitle', { hasText: '2 members' }).waitFor();
  await alice.locator('#composer').pressSequentially('Hey @Bo', { delay: 15 });
  const list = alice.locator('.mention-list');
  await list.getByRole('option', { name: '@Bob' }).waitFor();
  await shot('alice-mention-suggestions', alice);
  await alice.locator('#composer').press('Enter');
  assert.equal(await alice.locator('#composer').inputValue(), 'Hey @Bob ');
  await list.waitFor({ state: 'hidden' });
  await alice.locator('#composer').pressSequentially('look at this', { delay: 10 });
  // Bob is elsewhere (his dialog with Alice is open): the group gets both badges in his chat list.
  await alice.locator('#composer').press('Enter');
  await msg(alice, 'Hey @Bob look at this').locator('[data-status="sent"]').waitFor();
  const crew = chatNamed(bob, '# Crew');
  await crew.locator('.badge.mention').waitFor();
  await crew.locator('.badge:not(.mention)', { hasText: '1' }).waitFor();
  assert.equal(await crew.locator('.badge.mention').getAttribute('aria-label'), '1 mention');
  await shot('bob-mention-badge', bob);
  await crew.click();
  await msg(bob, 'Hey @Bob look at this').and(bob.locator('.msg.mentions-me')).waitFor();
  await crew.locator('.badge.mention').waitFor({ state: 'detached' });
  // A member has no pin action; the owner has.
  await msg(bob, 'Hey @Bob').hover();
  await msg(bob, 'Hey @Bob').getByRole('button', { name: 'Reply', exact: true }).waitFor();
  assert.equal(await msg(bob, 'Hey @Bob').getByRole('button', { name: 'Pin message' }).count(), 0);
  await msg(alice, 'Hey @Bob').hover();
  await msg(alice, 'Hey @Bob').getByRole('button', { name: 'Pin message' }).waitFor();
  await shot('bob-opened-mention', bob);
});

test('phone width: actions open on a long press only; reply and react from there', { skip }, async () => {
  const b = accounts.get('Bob')!;
  const phone = await open({ viewport: { width: 390, height: 780 }, hasTouch: true, isMobile: true });
  await phone.goto(`${fx.relay.http}/app/`);
  await phone.locator('#auth-email').fill(b.email);
  await phone.locator('#auth-password').fill('password123');
  await phone.getByRole('button', { name: 'Log in', exact: true }).click();
  await phone.locator('.state[data-state="open"]').waitFor();
  await chatNamed(phone, 'Alice').tap();
  const target = msg(phone, 'Here it is');
  await target.waitFor();
  await target.scrollIntoViewIfNeeded();
  // A tap is not a long press: no actions.
  await target.locator('.text').tap();
  await sleep(600);
  assert.equal(await target.locator('.actions').isVisible(), false, 'a tap shows no actions');
  await shot('phone-after-tap', phone);

  // A real touch held for 700 ms (the protocol's touch events: playwright has no long press).
  const cdp = await phone.context().newCDPSession(phone);
  const longPress = async (): Promise<void> => {
    await target.scrollIntoViewIfNeeded();
    const box = (await target.locator('.text').boundingBox())!;
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: box.x + box.width / 2, y: box.y + box.height / 2 }] });
    await sleep(700);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  };
  await longPress();
  await target.locator('.actions').waitFor({ state: 'visible' });
  await shot('phone-long-press-actions', phone);
  await chatNamed(alice, 'Bob').click();
  await target.getByRole('button', { name: 'React' }).tap();
  await target.getByRole('menuitem', { name: 'React with 🎉' }).tap();
  await target.locator('.chip[data-emoji="🎉"][aria-pressed="true"]').waitFor();
  await msg(alice, 'Here it is').locator('.chip[data-emoji="🎉"][aria-pressed="false"]').waitFor();

  await longPress();
  await target.getByRole('button', { name: 'Reply', exact: true }).tap();
  await phone.locator('.reply-bar .quote-text', { hasText: 'Here it is' }).waitFor();
  await phone.locator('#composer').fill('Thanks!');
  await phone.locator('#composer').press('Enter');
  await msg(phone, 'Thanks!').locator('.quote', { hasText: 'Here it is' }).waitFor();
  await shot('phone-replied', phone);
  // A tap elsewhere closes opened actions.
  await longPress();
  await target.locator('.actions').waitFor({ state: 'visible' });
  await phone.locator('.conv-head h2').tap();
  await target.locator('.actions').waitFor({ state: 'hidden' });

  for (const page of [alice, bob, phone]) assert.equal(await page.locator('.banner').isVisible(), false, `no error shown: ${await page.locator('.banner').textContent()}`);
  assert.deepEqual(pageErrors, [], 'no page errors');
});
