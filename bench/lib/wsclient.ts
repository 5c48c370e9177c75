/**
 * A lean WebSocket client over a raw net.Socket, built for receiving hundreds of thousands of
 * small frames per second in one Node process: every socket of the process reads into one
 * shared buffer (no allocation per read), frames are parsed in place and handed over as
 * Buffer views, and nothing is decoded unless the caller asks.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { FrameParser, Opcode, encodeClose, encodeFrame, encodeTextFrame, writeRandom, type FrameSink } from './frames.js';

export interface WsTarget {
  host: string;
  port: number;
}

export interface LeanHandlers {
  /** A complete data message; the buffer is only valid during the call. */
  onMessage(payload: Buffer): void;
  /** The connection ended: the close frame's code, or 1006 when TCP went away without one. */
  onClose(code: number, reason: string): void;
}

export interface LeanSocket {
  /** False when the socket is no longer open (the frame is dropped). */
  send(text: string): boolean;
  close(code?: number): void;
  readonly isOpen: boolean;
}

export interface OpenOptions {
  timeoutMs?: number;
  /** Another loopback source address (127.0.0.x) when one runs out of ephemeral ports. */
  localAddress?: string;
  /**
   * Called instead of `handlers.onClose` when TCP goes away without a close frame within
   * EARLY_CLOSE_MS of the 101 and before any frame: uNetworking/uWebSockets#1928 (README, "A known
   * uWS bug"), which the SDK survives by reconnecting. The caller opens the connection again.
   */
  onEarlyClose?: () => void;
}

/** How soon after its 101 a frameless end counts as uWS #1928 (see OpenOptions.onEarlyClose). */
export const EARLY_CLOSE_MS = 50;

/** The upgrade was refused (status is the HTTP status, e.g. 401) or broke off (status null). */
export class HandshakeError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

// Reads are synchronous per socket and every frame is consumed (or its remainder copied)
// inside the read callback, so one buffer can serve all sockets of the process.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

class LeanConnection implements LeanSocket, FrameSink {
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  private head: Buffer = Buffer.alloc(0);
  private readonly parser = new FrameParser(this);
  private readonly expectedAccept: string;
  private openedAt = 0;
  private framed = false;

  constructor(
    private readonly socket: net.Socket,
    key: string,
    private readonly handlers: LeanHandlers,
    private readonly settle: (error: Error | null) => void,
    private readonly onEarlyClose?: () => void,
  ) {
    this.expectedAccept = createHash('sha1').update(key + WS_GUID).digest('base64');
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  send(text: string): boolean {
    if (this.state !== 'open') return false;
    this.socket.write(encodeTextFrame(text));
    return true;
  }

  close(code = 1000): void {
    if (this.state === 'open') this.socket.write(encodeClose(code));
    this.finish(code, 'closed by client');
    this.socket.end();
  }

  onRead(bytes: number): void {
    const chunk = sharedReadBuffer.subarray(0, bytes);
    if (this.state === 'open') this.parser.push(chunk);
    else if (this.state === 'handshake') this.readHandshake(chunk);
  }

  onMessage(payload: Buffer): void {
    this.framed = true;
    this.handlers.onMessage(payload);
  }

  onPing(payload: Buffer): void {
    this.framed = true;
    if (this.state === 'open') this.socket.write(encodeFrame(Opcode.pong, payload));
  }

  onClose(code: number, reason: string): void {
    this.framed = true;
    if (this.state === 'open') this.socket.end(encodeClose(code === 1005 ? 1000 : code));
    this.finish(code, reason);
  }

  onProtocolError(reason: string): void {
    if (this.state === 'open') this.socket.end(encodeClose(1002));
    this.finish(1002, reason);
  }

  /** TCP is gone: anything still open or handshaking ends here. */
  onSocketClosed(error: Error | null): void {
    if (this.state === 'handshake') {
      this.state = 'closed';
      this.settle(error ?? new HandshakeError('connection closed during the handshake', null));
    }
    if (this.state === 'open' && !this.framed && this.onEarlyClose && performance.now() - this.openedAt <= EARLY_CLOSE_MS) {
      this.state = 'closed';
      this.onEarlyClose();
      return;
    }
    this.finish(1006, error?.message ?? 'connection lost');
  }

  abort(error: Error): void {
    if (this.state !== 'handshake') return;
    this.state = 'closed';
    this.socket.destroy();
    this.settle(error);
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handlers.onClose(code, reason);
  }

  private readHandshake(chunk: Buffer): void {
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf(HEADER_END);
    if (end === -1) {
      if (this.head.length > MAX_HEADER_BYTES) this.abort(new HandshakeError('handshake answer too long', null));
      return;
    }
    const lines = this.head.toString('latin1', 0, end).split('\r\n');
    const status = Number((lines[0] ?? '').split(' ')[1]);
    if (status !== 101) {
      this.abort(new HandshakeError(`upgrade answered ${lines[0] ?? '(nothing)'}`, Number.isInteger(status) ? status : null));
      return;
    }
    const accept = lines.find((line) => line.toLowerCase().startsWith('sec-websocket-accept:'));
    if (accept === undefined || accept.slice(accept.indexOf(':') + 1).trim() !== this.expectedAccept) {
      this.abort(new HandshakeError('wrong Sec-WebSocket-Accept', 101));
      return;
    }
    const rest = this.head.subarray(end + HEADER_END.length);
    this.head = Buffer.alloc(0);
    this.state = 'open';
    this.openedAt = performance.now();
    this.settle(null);
    if (rest.length > 0) this.parser.push(rest);
  }
}

/** Opens one authenticated WebSocket: resolves once the server answered 101 with the right accept key. */
export function openLean(target: WsTarget, token: string, handlers: LeanHandlers, options: OpenOptions = {}): Promise<LeanSocket> {
  const keyBytes = Buffer.allocUnsafe(16);
  writeRandom(keyBytes, 0, 16);
  const key = keyBytes.toString('base64');
  return new Promise((resolve, reject) => {
    let connection: LeanConnection | null = null;
    const socket = net.connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      localAddress: options.localAddress,
      onread: {
        buffer: sharedReadBuffer,
        callback: (bytes: number): boolean => {
          connection?.onRead(bytes);
          return true;
        },
      },
    });
    const timer = setTimeout(() => connection?.abort(new HandshakeError('handshake timed out', null)), options.timeoutMs ?? 10_000);
    connection = new LeanConnection(socket, key, handlers, (error) => {
      clearTimeout(timer);
      if (error === null && connection !== null) resolve(connection);
      else reject(error ?? new Error('unreachable'));
    }, options.onEarlyClose);
    let lastError: Error | null = null;
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.on('close', () => connection?.onSocketClosed(lastError));
    socket.on('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
  });
}
