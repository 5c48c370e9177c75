import type { RelayHttp } from 'relay-client';
import { h, describe } from './dom.js';
import type { Session } from './session.js';

/** Log in or sign up; calls `done` with the new session. */
export function authView(http: RelayHttp, done: (s: Session) => void): HTMLElement {
  let mode: 'login' | 'signup' = 'login';
  const error = h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, id: 'auth-email' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, minlength: 8, id: 'auth-password' });
  const firstName = h('input', { type: 'text', name: 'firstName', autocomplete: 'given-name', id: 'auth-first' });
  const nameRow = h('label', { class: 'field', hidden: true }, 'First name', firstName);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const toggle = h('button', { type: 'button', class: 'link', onclick: () => setMode(mode === 'login' ? 'signup' : 'login') }, 'No account? Sign up');
  const title = h('h1', {}, 'Log in to Relay');

  function setMode(m: typeof mode): void {
    mode = m;
    const signup = m === 'signup';
    nameRow.hidden = !signup;
    firstName.required = signup;
    password.autocomplete = signup ? 'new-password' : 'current-password';
    submit.textContent = signup ? 'Sign up' : 'Log in';
    title.textContent = signup ? 'Create a Relay account' : 'Log in to Relay';
    toggle.textContent = signup ? 'Have an account? Log in' : 'No account? Sign up';
    error.textContent = '';
  }

  const form = h('form', {
    class: 'auth card', 'aria-labelledby': 'auth-title',
    onsubmit: (ev: Event) => {
      ev.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      const body = { email: email.value.trim(), password: password.value };
      const req = mode === 'signup' ? http.signUp({ ...body, firstName: firstName.value.trim() }) : http.login(body);
      req.then((a) => done({ token: a.token, user: a.user }), (err: unknown) => { error.textContent = describe(err); })
        .finally(() => { submit.disabled = false; });
    },
  },
  title,
  h('label', { class: 'field' }, 'Email', email),
  h('label', { class: 'field' }, 'Password', password),
  nameRow, error, submit, toggle);
  title.id = 'auth-title';
  return h('main', { class: 'auth-page' }, form);
}
