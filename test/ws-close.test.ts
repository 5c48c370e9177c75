// Close codes: 4003 when the account's tokens are revoked (password change, deletion), 4001 when
// the connection's token expires (a second server with short-lived tokens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayProcess } from './helpers/server.js';
import { http, signUp, sleep, type Account, type Client } from './helpers/client.js';
import { useRelay, expect401, type AuthHow } from './helpers/protocol.js';

let shortRelay: RelayProcess;
// Long enough that sign-up, connect and refresh fit inside one token's life on a loaded machine.
const SHORT_TTL = 4;
const fx = useRelay('ws_close', { AUTH_RATE_PER_MINUTE: '100000' }, async () => {
  // Same database, already migrated: tokens there live SHORT_TTL seconds.
  shortRelay = await fx.startAnother({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000', JWT_TTL: String(SHORT_TTL) });
});

const connect = (url: string, token: string, how: AuthHow = 'header'): Promise<Client> => fx.connect(token, how, url);

/** Resolves with the close code, or 'open' if the socket is still open after `ms`. */
const closedWithin = (c: Client, ms: number): Promise<number | 'open'> =>
  Promise.race([c.closed, sleep(ms).then(() => 'open' as const)]);

async function assertServes(c: Client): Promise<void> {
  const f = await c.request('listLastMessage', {});
  assert.equal(f.success, true, JSON.stringify(f));
  assert.equal(c.closeCode, undefined);
}

test('changing the password closes every open socket of the account with 4003; the new token connects', async () => {
  const a: Account = await signUp(fx.relay.http, 'Pass');
  const b = await signUp(fx.relay.http, 'Bystander');
  const sockets = [await connect(fx.relay.ws, a.token), await connect(fx.relay.ws, a.token, 'protocol'), await connect(fx.relay.ws, a.token)];
  const other = await connect(fx.relay.ws, b.token);
  for (const c of sockets) await assertServes(c);

  const res = await http(fx.relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: a.password, newPassword: 'another-password-1' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(typeof res.body.token, 'string');
  // Closed on this node before the HTTP answer was sent: by the time the client has read the
  // answer, every socket has received its close frame (CLOSING) or is already CLOSED.
  for (const c of sockets) assert.ok(c.ws.readyState >= c.ws.CLOSING, `readyState ${c.ws.readyState} after the HTTP answer`);
  for (const c of sockets) assert.equal(await closedWithin(c, 1000), 4003);
  assert.equal(await closedWithin(other, 300), 'open', 'another account is not affected');
  await assertServes(other);

  await expect401(fx.relay.ws, a.token);
  await expect401(fx.relay.ws, a.token, 'protocol');
  const fresh = await connect(fx.relay.ws, res.body.token);
  await assertServes(fresh);
  assert.equal(await closedWithin(fresh, 300), 'open', 'the new token\'s socket stays open');
  // A socket on the other node with the old token was refused too (revocation is in the database).
  await expect401(shortRelay.ws, a.token);
});

test('a wrong old password changes nothing and closes nothing', async () => {
  const a = await signUp(fx.relay.http, 'Careful');
  const c = await connect(fx.relay.ws, a.token);
  const res = await http(fx.relay.http, 'PATCH', '/profile/password', { token: a.token, body: { oldPassword: 'wrong-password', newPassword: 'another-password-1' } });
  assert.equal(res.status, 401);
  assert.equal(await closedWithin(c, 300), 'open');
  await assertServes(c);
});

test('deleting the account closes its sockets with 4003 and its token no longer connects', async () => {
  const a = await signUp(fx.relay.http, 'Gone');
  const b = await signUp(fx.relay.http, 'Stays');
  const sockets = [await connect(fx.relay.ws, a.token), await connect(fx.relay.ws, a.token, 'protocol')];
  const other = await connect(fx.relay.ws, b.token);
  const res = await http(fx.relay.http, 'DELETE', '/profile', { token: a.token });
  assert.equal(res.status, 200);
  for (const c of sockets) assert.ok(c.ws.readyState >= c.ws.CLOSING, `readyState ${c.ws.readyState} after the HTTP answer`);
  for (const c of sockets) assert.equal(await closedWithin(c, 1000), 4003);
  await expect401(fx.relay.ws, a.token);
  await expect401(fx.relay.ws, a.token, 'protocol');
  await assertServes(other);
});

test('when the token expires the socket is closed with 4001; the expired token then gets 401', async () => {
  const a = await signUp(shortRelay.http, 'Brief');
  const exp = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString()).exp as number;
  const iat = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString()).iat as number;
  assert.equal(exp - iat, SHORT_TTL, `JWT_TTL=${SHORT_TTL} gives ${SHORT_TTL}-second tokens`);
  const c1 = await connect(shortRelay.ws, a.token);
  const c2 = await connect(shortRelay.ws, a.token, 'protocol');
  await assertServes(c1);
  const closes = await Promise.all([c1, c2].map(async (c) => {
    const code = await closedWithin(c, SHORT_TTL * 1000 + 3000);
    return { code, at: Date.now() };
  }));
  for (const { code, at } of closes) {
    assert.equal(code, 4001);
    assert.ok(at >= exp * 1000 - 50, `closed at ${at}, not before the expiry ${exp * 1000}`);
    assert.ok(at <= exp * 1000 + 1500, `closed at ${at}, soon after the expiry ${exp * 1000}`);
  }
  await expect401(shortRelay.ws, a.token);
});

test('a refreshed token gives a socket that outlives the first token', async () => {
  const a = await signUp(shortRelay.http, 'Refresh');
  const iat = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString()).iat as number;
  const old = await connect(shortRelay.ws, a.token);
  // Tokens count whole seconds: refreshing in a later second gives a later expiry.
  await sleep(Math.max(0, (iat + 1) * 1000 + 50 - Date.now()));
  const res = await http(shortRelay.http, 'POST', '/auth/refresh', { token: a.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const renewed = await connect(shortRelay.ws, res.body.token);
  assert.equal(await closedWithin(old, SHORT_TTL * 1000 + 1000), 4001);
  // The renewed one expires a second or more later than the old one.
  assert.equal(renewed.closeCode, undefined, 'still open when the old token\'s socket closed');
  await assertServes(renewed);
  assert.equal(await closedWithin(renewed, SHORT_TTL * 1000 + 1000), 4001);
});
