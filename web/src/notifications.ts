import type { PushSubscriptionBody, RelayHttp } from 'relay-client';
import { describe, h } from './dom.js';

/*
 * Notifications to this browser while the app is closed (PROTOCOL.md v1.2): the service worker
 * (web/sw.js, scope /app/) shows them; the "Notifications" switch asks the browser's permission,
 * subscribes with the server's VAPID key and registers the subscription with the server.
 */

const supported = (): boolean => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/** Registers the service worker (it also opens chats from clicked notifications); undefined where unsupported. */
export async function registerWorker(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  return navigator.serviceWorker.register('sw.js', { scope: './' });
}

/** The VAPID key as pushManager.subscribe takes it. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4));
  return new Uint8Array(Array.from(text, (c) => c.charCodeAt(0)));
}

async function enable(http: RelayHttp, token: string): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site: allow them in the browser\'s site settings');
  await registerWorker();
  const reg = await navigator.serviceWorker.ready;
  const key = await http.getPushKey();
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await http.subscribePush(token, sub.toJSON() as PushSubscriptionBody);
}

async function disable(http: RelayHttp, token: string): Promise<void> {
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription();
  if (!sub) return;
  await http.unsubscribePush(token, sub.endpoint);
  await sub.unsubscribe();
}

/** The "Notifications" switch of the top bar. */
export function notificationsSwitch(http: RelayHttp, token: () => string, onError: (err: unknown) => void): HTMLElement {
  const box = h('input', { type: 'checkbox', role: 'switch', id: 'notifications', 'aria-label': 'Notifications' });
  const label = h('label', { class: 'switch', title: 'Notify me of new messages while Relay is closed' }, box, h('span', {}, 'Notifications'));
  if (!supported()) {
    box.disabled = true;
    label.title = 'This browser cannot show notifications from Relay';
    return label;
  }
  void (async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = await reg?.pushManager.getSubscription();
    box.checked = Boolean(sub) && Notification.permission === 'granted';
  })().catch(() => undefined);
  box.addEventListener('change', () => {
    const on = box.checked;
    box.disabled = true;
    (on ? enable(http, token()) : disable(http, token())).then(
      () => { box.disabled = false; },
      (err: unknown) => {
        box.checked = !on;
        box.disabled = false;
        onError(`Notifications: ${describe(err)}`);
      },
    );
  });
  return label;
}

/** Calls `open` with a chat key (`d<user>`, `g<group>`) when a clicked notification asks the open app for one. */
export function onOpenChat(open: (chat: string) => void): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (ev: MessageEvent) => {
    const d = ev.data as { type?: unknown; chat?: unknown } | null;
    if (d?.type === 'openChat' && typeof d.chat === 'string') open(d.chat);
  });
}
