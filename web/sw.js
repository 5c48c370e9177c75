// Relay's service worker (scope /app/): shows a notification for each Web Push (the payload of
// PROTOCOL.md v1.2: sender, conversation, preview) and opens that conversation when one is
// clicked. Plain JavaScript: the page's TypeScript is checked against the DOM, a worker runs in
// another global scope. Served from the app's own origin at a stable URL (/app/sw.js).

/** `d<peer>` or `g<groupId>`: the chat key the app reads from the URL's hash. */
function chatOf(p) {
  return p.groupId != null ? `g${p.groupId}` : `d${p.senderId}`;
}

self.addEventListener('install', () => { self.skipWaiting(); });
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener('push', (event) => {
  let p;
  try {
    p = event.data ? event.data.json() : null;
  } catch {
    p = null;
  }
  if (!p || p.type !== 'message') return;
  const chat = chatOf(p);
  const title = p.groupName ? `${p.senderName} in ${p.groupName}` : p.senderName;
  const unread = p.unreadCount > 1 ? ` (${p.unreadCount} unread)` : '';
  event.waitUntil(self.registration.showNotification(title, {
    body: `${p.preview}${unread}`,
    // One notification per conversation: a newer one replaces it.
    tag: chat,
    renotify: true,
    data: { chat, url: `${self.registration.scope}#${chat}` },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { chat, url } = event.notification.data || {};
  const work = (async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => w.url.startsWith(self.registration.scope));
    if (open) {
      // Asked first: focusing may be refused (it needs the click's user activation).
      open.postMessage({ type: 'openChat', chat });
      await open.focus();
      return;
    }
    await self.clients.openWindow(url);
  })();
  // waitUntil throws for an event the page script dispatched itself (untrusted); the work runs anyway.
  try {
    event.waitUntil(work);
  } catch {
    work.catch(() => undefined);
  }
});
