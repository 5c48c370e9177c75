// The web app's files in Chromium (PROTOCOL.md v1.2 "Files"): the paper clip, drag-and-drop and
// paste onto the composer, a progress bar per upload with cancel, several files in one message,
// images inline from their thumbnails (a click opens the full image), other files as chips with
// name, size and a download link, errors as text; the chat list names a files-only message;
// the CSP stays strict (no violation is logged).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useRelay } from './helpers/protocol.js';
import { launchBrowser, browserSkip, signUpInApp, chatNamed, openDialogWith, type BrowserRun } from './helpers/browser.js';
import { png, pdf } from './helpers/files.js';

const skip = browserSkip;
const MAX = 1024 * 1024;
const fx = useRelay('browser_files', { AUTH_RATE_PER_MINUTE: '100000', MAX_UPLOAD_BYTES: String(MAX) });
let run: BrowserRun | undefined;
let alice: Page;
let bob: Page;

before(async () => {
  if (skip) return;
  run = await launchBrowser('browser-files');
  alice = await run.open();
  bob = await run.open();
});
after(async () => { await run?.browser.close(); });

/** Puts files on the page's clipboard-or-drop DataTransfer and fires `event` at `selector`. */
async function fire(page: Page, selector: string, event: 'drop' | 'paste', files: { name: string; type: string; data: Buffer }[]): Promise<void> {
  await page.evaluate(({ selector, event, files }) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    const target = document.querySelector(selector)!;
    const ev = event === 'drop'
      ? new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })
      : new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    target.dispatchEvent(ev);
  }, { selector, event, files: files.map((f) => ({ name: f.name, type: f.type, b64: f.data.toString('base64') })) });
}

test('attach with the paper clip, send an image and a PDF in one message; the other side sees the thumbnail, opens the image and downloads the PDF', { skip }, async () => {
  await signUpInApp(alice, fx.relay.http, 'Alice');
  await signUpInApp(bob, fx.relay.http, 'Bob');
  await openDialogWith(alice, 'Bob');
  const image = await png(900, 600);
  await alice.locator('#attach-input').setInputFiles([
    { name: 'sunset.png', mimeType: 'image/png', buffer: image },
    { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf() },
  ]);
  const tray = alice.locator('.uploads');
  await tray.locator('.upload.done', { hasText: 'sunset.png' }).waitFor();
  await tray.locator('.upload.done', { hasText: 'report.pdf' }).waitFor();
  assert.equal(await tray.locator('progress').count(), 2, 'a progress bar per upload');
  await run!.shot('alice-two-files-ready', alice);
  await alice.getByRole('button', { name: 'Send' }).click();
  await tray.waitFor({ state: 'hidden' });

  const sent = alice.locator('.messages li.msg.mine').last();
  await sent.locator('.attachment.image img').waitFor();
  await sent.locator('[data-status="sent"], [data-status="read"]').waitFor();

  // Bob: the chat list names the first file; the message shows the thumbnail and the chip.
  await chatNamed(bob, 'Alice').locator('.last', { hasText: 'sunset.png' }).waitFor();
  await chatNamed(bob, 'Alice').click();
  const got = bob.locator('.messages li.msg.theirs').last();
  const img = got.locator('.attachment.image img');
  await img.waitFor();
  await bob.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle());
  assert.deepEqual(await img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight]), [320, 213], 'the 320-pixel thumbnail');
  assert.equal(await img.getAttribute('alt'), 'sunset.png');
  const chip = got.locator('.attachment.chip');
  assert.match((await chip.textContent()) ?? '', /report\.pdf.*B/);
  await run!.shot('bob-sees-files', bob);

  // A click on the image opens the full one.
  const [full] = await Promise.all([bob.context().waitForEvent('page'), img.click()]);
  const response = await full.waitForEvent('response', { predicate: (r) => r.url().includes('/files/') }).catch(() => undefined);
  await full.waitForLoadState();
  const size = await full.evaluate(() => { const i = document.querySelector('img'); return i ? [i.naturalWidth, i.naturalHeight] : null; });
  assert.deepEqual(size, [900, 600], `the full image (${response?.status() ?? 'loaded'})`);
  await run!.shot('bob-full-image', full);
  await full.close();

  // The PDF downloads under its name, with its bytes.
  const [download] = await Promise.all([bob.waitForEvent('download'), chip.click()]);
  assert.equal(download.suggestedFilename(), 'report.pdf');
  const chunks: Buffer[] = [];
  for await (const c of (await download.createReadStream())!) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(pdf()), 'the PDF as uploaded');
});

test('drag-and-drop and paste attach; cancel removes an upload; too big is shown as text; files alone make a message', { skip }, async () => {
  await chatNamed(bob, 'Alice').click();
  await fire(bob, '.pane', 'drop', [{ name: 'dropped.txt', type: 'text/plain', data: Buffer.from('dropped file') }]);
  await bob.locator('.upload.done', { hasText: 'dropped.txt' }).waitFor();
  await fire(bob, '#composer', 'paste', [{ name: 'pasted.png', type: 'image/png', data: await png(100, 80) }]);
  await bob.locator('.upload.done', { hasText: 'pasted.png' }).waitFor();

  // Too big: refused, and said so in its place.
  await bob.locator('#attach-input').setInputFiles([{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MAX + 1) }]);
  await bob.locator('.upload.failed', { hasText: 'huge.bin' }).locator('[role="alert"]', { hasText: /too large/i }).waitFor();
  await run!.shot('bob-too-big', bob);
  await bob.getByRole('button', { name: 'Remove huge.bin' }).click();

  // Cancel: an upload held on its way is cancelled and leaves the tray.
  let release: () => void = () => undefined;
  await bob.route('**/files?name=slow.bin', (route) => new Promise<void>((resolve) => { release = resolve; }).then(() => route.continue().catch(() => undefined)));
  await bob.locator('#attach-input').setInputFiles([{ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1000) }]);
  await bob.locator('.upload.uploading', { hasText: 'slow.bin' }).locator('progress').waitFor();
  assert.equal(await bob.getByRole('button', { name: 'Send' }).isDisabled(), true, 'no send while an upload is on its way');
  await run!.shot('bob-upload-in-progress', bob);
  await bob.getByRole('button', { name: 'Cancel slow.bin' }).click();
  await bob.locator('.upload', { hasText: 'slow.bin' }).waitFor({ state: 'detached' });
  release();

  // The two that are done go in one message with no text.
  await bob.getByRole('button', { name: 'Send' }).click();
  await run!.shot('bob-sent-files-only', bob);
  const got = alice.locator('.messages li.msg.theirs').last();
  await got.locator('.attachment.chip', { hasText: 'dropped.txt' }).waitFor();
  await got.locator('.attachment.image img[alt="pasted.png"]').waitFor();
  assert.equal(await got.locator('.text').count(), 0, 'no text line for a files-only message');
  await run!.shot('alice-gets-dropped-and-pasted', alice);

  assert.deepEqual(run!.errors.filter((e) => !/status of 413/.test(e)), [], 'no page errors, no CSP violation');
});
