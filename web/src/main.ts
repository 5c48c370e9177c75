import { RelayClient, RelayHttp } from 'relay-client';
import { authView } from './auth.js';
import { ChatApp } from './chat.js';
import { clearSession, loadSession, saveSession, type Session } from './session.js';
import { h } from './dom.js';

// Served by Relay itself: the API and the WebSocket are on this page's origin.
const http = new RelayHttp('');
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const root = document.getElementById('root')!;
let current: ChatApp | undefined;

function showAuth(notice?: string): void {
  current?.destroy();
  current = undefined;
  clearSession();
  document.body.classList.remove('has-active');
  const view = authView(http, (s) => { saveSession(s); showChat(s); });
  if (notice) view.prepend(h('p', { class: 'notice', role: 'status' }, notice));
  root.replaceChildren(view);
}

function showChat(s: Session): void {
  const client = new RelayClient({
    url: wsUrl,
    token: s.token,
    // The SDK asks a little before the token expires (a refresh needs it still valid) and keeps
    // the page's session in step; if the refresh fails it closes with 4001, and ChatApp logs out.
    getToken: async (token) => {
      const fresh = (await http.refresh(token)).token;
      saveSession({ ...s, token: fresh });
      return fresh;
    },
  });
  const app = new ChatApp(client, http, () => client.token, s.user, (notice) => showAuth(notice));
  current = app;
  root.replaceChildren(app.root);
}

const session = loadSession();
if (session) showChat(session);
else showAuth();
