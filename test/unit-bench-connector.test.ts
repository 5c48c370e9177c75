// bench/lib/connector.ts: a connection the server ends right after its 101 without a close frame
// (uNetworking/uWebSockets#1928, which cannot be triggered on demand) is opened again once, with the
// same handlers, which never hear of the first. The server here is a few lines of TCP on
// 127.0.0.1 that answers the upgrade like uWS and then does what each test needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { openMany } from '../bench/lib/connector.js';
import { EARLY_CLOSE_MS } from '../bench/lib/wsclient.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Answers every upgrade with 101, then calls `after` with the socket and which connection it is (from 1). */
async function upgradeServer(after: (socket: net.Socket, nth: number) => void): Promise<{ port: number; close: () => Promise<void> }> {
  let nth = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      after(socket, ++nth);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

function recorder() {
  const closes: number[] = [];
  return { closes, handlers: { onMessage: () => undefined, onClose: (code: number) => { closes.push(code); } } };
}

test('a connection ended right after its 101 is opened again, and its handlers never hear of the first', async () => {
  // The first connection is ended at once without a close frame (what #1928 does); the rest stay.
  const server = await upgradeServer((socket, nth) => { if (nth === 1) socket.destroy(); });
  const { closes, handlers } = recorder();
  try {
    const report = await openMany([{ target: { host: '127.0.0.1', port: server.port }, token: 't', handlers }], 1);
    assert.equal(report.reopened, 1);
    assert.equal(report.opened, 1);
    assert.deepEqual(report.failures, {});
    assert.equal(report.sockets[0]?.isOpen, true, 'the socket in the report is the second, open one');
    assert.deepEqual(closes, [], 'the handlers saw no close');
  } finally {
    await server.close();
  }
});

test('a frameless end later than the window, or after a frame, is a close like any other', async () => {
  // 1: ended well after the window. 2: a ping first, then ended at once.
  const server = await upgradeServer((socket, nth) => {
    if (nth === 1) setTimeout(() => socket.destroy(), EARLY_CLOSE_MS * 4);
    else { socket.write(Buffer.from([0x89, 0x00])); setTimeout(() => socket.destroy(), 5); }
  });
  const first = recorder();
  const second = recorder();
  try {
    const target = { host: '127.0.0.1', port: server.port };
    const report = await openMany([{ target, token: 't', handlers: first.handlers }, { target, token: 't', handlers: second.handlers }], 1);
    assert.equal(report.reopened, 0);
    assert.equal(report.opened, 2);
    await new Promise((resolve) => setTimeout(resolve, EARLY_CLOSE_MS * 6));
    assert.deepEqual(first.closes, [1006]);
    assert.deepEqual(second.closes, [1006]);
  } finally {
    await server.close();
  }
});
