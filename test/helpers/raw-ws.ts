// A WebSocket client written by hand on a TCP socket, for tests that decide when (and whether)
// the client reads, or answers pings: the upgrade, and a decoder of the server's frames.
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * Opens a TCP connection to `port`, upgrades it with `Authorization: Bearer <token>` and checks
 * the 101. Resolves with the socket, paused, and the bytes that came after the handshake.
 */
export async function rawUpgrade(port: number, token: string): Promise<{ socket: net.Socket; rest: Buffer }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
    `Authorization: Bearer ${token}\r\n\r\n`,
  );
  let head = Buffer.alloc(0);
  while (!head.includes('\r\n\r\n')) {
    const chunk = await new Promise<Buffer>((resolve, reject) => { socket.once('data', resolve); socket.once('close', () => reject(new Error('closed during handshake'))); });
    head = Buffer.concat([head, chunk]);
  }
  socket.pause();
  const end = head.indexOf('\r\n\r\n') + 4;
  assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
  return { socket, rest: head.subarray(end) };
}

/**
 * Splits the server's (unmasked) frames out of the bytes read, and calls `onFrame` with the
 * opcode and payload of each complete one.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (opcode: number, payload: Buffer) => void) {}

  feed(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const b = this.pending;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); at = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); at = 10; }
      if (b.length < at + len) return;
      this.onFrame(b[0]! & 0x0f, b.subarray(at, at + len));
      this.pending = b.subarray(at + len);
    }
  }
}

/**
 * The one hand-written WebSocket client of the tests: it never answers a ping, decodes only what
 * the tests count (pings, text frames, the close code), and reads only when told (`stall`,
 * `resume`). Opened reading, or stalled with `{ reading: false }`.
 */
export class RawSocket {
  pings = 0;
  /** Text frames read (replies and pushes). */
  messages = 0;
  closeCode: number | undefined;
  readonly ended: Promise<void>;
  private readonly frames = new FrameDecoder((opcode, payload) => {
    if (opcode === 0x1) this.messages++;
    if (opcode === 0x9) this.pings++;
    if (opcode === 0x8 && payload.length >= 2) this.closeCode = payload.readUInt16BE(0);
  });

  private constructor(readonly socket: net.Socket, rest: Buffer) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => this.frames.feed(d));
    socket.on('error', () => undefined);
    this.frames.feed(rest);
  }

  static async open(port: number, token: string, { reading = true }: { reading?: boolean } = {}): Promise<RawSocket> {
    const { socket, rest } = await rawUpgrade(port, token);
    const raw = new RawSocket(socket, rest);
    if (reading) raw.resume();
    return raw;
  }

  /** Stops reading: the kernel buffers fill, then the server's. */
  stall(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
