import { RelayClient, RelayHttp } from 'relay-client';
import { authView } from './auth.js';
import { ChatApp } from './chat.js';
import { clearSession, loadSession, saveSession, TokenKeeper, type Session } from './session.js';
import { h } from './dom.js';

// Served by Relay itself: the API and the WebSocket are on this page's origin.
const http = new RelayHttp('');
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const root = document.getElementById('root')!;
let current: { app: ChatApp; keeper: TokenKeeper } | undefined;

function showAuth(notice?: string): void {
  current?.app.destroy();
  current?.keeper.stop();
  current = undefined;
  clearSession();
  document.body.classList.remove('has-active');
  const view = authView(http, (s) => { saveSession(s); showChat(s); });
  if (notice) view.prepend(h('p', { class: 'notice', role: 'status' }, notice));
  root.replaceChildren(view);
}

function showChat(s: Session): void {
  const keeper = new TokenKeeper(s, http, () => showAuth('Your session expired. Please log in again.'));
  const client = new RelayClient({ url: wsUrl, token: s.token, getToken: () => keeper.getToken() });
  const app = new ChatApp(client, http, () => keeper.token, s.user, (notice) => showAuth(notice));
  current = { app, keeper };
  root.replaceChildren(app.root);
}

const session = loadSession();
if (session) showChat(session);
else showAuth();
