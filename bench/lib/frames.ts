/**
 * WebSocket framing (RFC 6455) for the client side only: frames we send are masked, frames
 * the server sends are not. No extensions are negotiated, so RSV bits must be clear.
 */
import { randomFillSync } from 'node:crypto';

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** What the parser hands over. Payload buffers are only valid during the call (they may be views into a reused read buffer). */
export interface FrameSink {
  onMessage(payload: Buffer): void;
  onPing(payload: Buffer): void;
  onClose(code: number, reason: string): void;
  onProtocolError(reason: string): void;
}

// Masks and handshake keys are drawn from a pooled random buffer: one randomFillSync per 16 KiB
// instead of one per frame or connection (each cost a generator tens of µs here).
const randomPool = Buffer.allocUnsafe(16384);
let randomOffset = randomPool.length;

/** Copies `length` (at most 16,384) random bytes into `target` at `at`. */
export function writeRandom(target: Buffer, at: number, length: number): void {
  if (randomOffset + length > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomPool.copy(target, at, randomOffset, randomOffset + length);
  randomOffset += length;
}

function writeMask(target: Buffer, at: number): void {
  writeRandom(target, at, 4);
}

function headerLength(payloadLength: number): number {
  if (payloadLength < 126) return 6;
  if (payloadLength < 65536) return 8;
  return 14;
}

function writeHeader(frame: Buffer, opcode: number, payloadLength: number): number {
  frame[0] = 0x80 | opcode;
  if (payloadLength < 126) {
    frame[1] = 0x80 | payloadLength;
    writeMask(frame, 2);
    return 6;
  }
  if (payloadLength < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payloadLength, 2);
    writeMask(frame, 4);
    return 8;
  }
  frame[1] = 0x80 | 127;
  frame.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), 2);
  frame.writeUInt32BE(payloadLength >>> 0, 6);
  writeMask(frame, 10);
  return 14;
}

function maskInPlace(frame: Buffer, maskAt: number, from: number): void {
  const m0 = frame[maskAt] ?? 0, m1 = frame[maskAt + 1] ?? 0, m2 = frame[maskAt + 2] ?? 0, m3 = frame[maskAt + 3] ?? 0;
  const end = frame.length;
  let i = from;
  for (; i + 3 < end; i += 4) {
    frame[i] = (frame[i] ?? 0) ^ m0;
    frame[i + 1] = (frame[i + 1] ?? 0) ^ m1;
    frame[i + 2] = (frame[i + 2] ?? 0) ^ m2;
    frame[i + 3] = (frame[i + 3] ?? 0) ^ m3;
  }
  for (let k = 0; i < end; i++, k++) {
    frame[i] = (frame[i] ?? 0) ^ (k === 0 ? m0 : k === 1 ? m1 : m2);
  }
}

/** One masked text frame; the string is encoded straight into the frame buffer (no second copy). */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const frame = Buffer.allocUnsafe(headerLength(length) + length);
  const at = writeHeader(frame, Opcode.text, length);
  frame.write(text, at, 'utf8');
  maskInPlace(frame, at - 4, at);
  return frame;
}

/** One masked frame of any opcode carrying a binary payload (pong, close). */
export function encodeFrame(opcode: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(payload.length) + payload.length);
  const at = writeHeader(frame, opcode, payload.length);
  frame.set(payload, at);
  maskInPlace(frame, at - 4, at);
  return frame;
}

export function encodeClose(code: number): Buffer {
  const payload = Buffer.allocUnsafe(2);
  payload.writeUInt16BE(code, 0);
  return encodeFrame(Opcode.close, payload);
}

/**
 * Incremental parser of server frames. Feed it whatever TCP delivers; it copies only the
 * bytes of an incomplete frame (the read buffer is shared and overwritten by the next read).
 */
export class FrameParser {
  private pending: Buffer | null = null;
  private fragments: Buffer[] | null = null;
  private closed = false;

  constructor(private readonly sink: FrameSink, private readonly maxPayload = 16 * 1024 * 1024) {}

  push(chunk: Buffer): void {
    if (this.closed) return;
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const ownsBuffer = this.pending !== null;
    this.pending = null;
    let pos = 0;
    while (!this.closed) {
      const avail = buf.length - pos;
      if (avail < 2) break;
      const b0 = buf[pos] ?? 0;
      const b1 = buf[pos + 1] ?? 0;
      if ((b1 & 0x80) !== 0) return this.fail('server frame is masked');
      if ((b0 & 0x70) !== 0) return this.fail('RSV bits set without an extension');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (avail < 4) break;
        length = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (avail < 10) break;
        const high = buf.readUInt32BE(pos + 2);
        if (high > 0x1fffff) return this.fail('frame length over 2^53');
        length = high * 2 ** 32 + buf.readUInt32BE(pos + 6);
        header = 10;
      }
      if (length > this.maxPayload) return this.fail(`frame of ${length} bytes over the limit`);
      if (avail < header + length) break;
      const payload = buf.subarray(pos + header, pos + header + length);
      pos += header + length;
      this.dispatch((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
    if (!this.closed && pos < buf.length) {
      const rest = buf.subarray(pos);
      this.pending = ownsBuffer ? rest : Buffer.from(rest);
    }
  }

  private dispatch(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case Opcode.text:
      case Opcode.binary:
        if (this.fragments !== null) return this.fail('new message inside a fragmented one');
        if (fin) this.sink.onMessage(payload);
        else this.fragments = [Buffer.from(payload)];
        return;
      case Opcode.continuation:
        if (this.fragments === null) return this.fail('continuation without a first fragment');
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.sink.onMessage(whole);
        }
        return;
      case Opcode.ping:
      case Opcode.pong:
      case Opcode.close:
        if (!fin || payload.length > 125) return this.fail('fragmented or oversized control frame');
        if (opcode === Opcode.ping) this.sink.onPing(payload);
        else if (opcode === Opcode.close) {
          this.closed = true;
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          this.sink.onClose(code, payload.subarray(2).toString('utf8'));
        }
        return;
      default:
        this.fail(`unknown opcode ${opcode}`);
    }
  }

  private fail(reason: string): void {
    this.closed = true;
    this.pending = null;
    this.fragments = null;
    this.sink.onProtocolError(reason);
  }
}
