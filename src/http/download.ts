import type { HttpResponse } from 'uWebSockets.js';
import type { Readable } from 'node:stream';
import { writeHead, type Reply } from './respond.js';

/**
 * Streams a reply's body from storage with uWS backpressure: each chunk goes out through
 * `tryEnd`; when the socket's buffer is full the source is paused until uWS says the socket is
 * writable again (`onWritable`), and the rest of the chunk is sent then. A download holds about
 * one chunk of memory, whatever the file's size. `gone` says whether the client went away.
 */
export function streamReply(res: HttpResponse, reply: Reply & { stream: NonNullable<Reply['stream']> }, gone: () => boolean): void {
  const { source, length } = reply.stream;
  let done = false;
  // A chunk waits for the socket to drain (its rest goes out from onWritable).
  let pending = false;
  const finish = (): void => {
    done = true;
    source.destroy();
  };
  res.cork(() => writeHead(res, reply));
  if (length === 0) {
    res.cork(() => res.end());
    finish();
    return;
  }
  source.on('data', (chunk: Buffer) => {
    if (done) return;
    if (gone()) { finish(); return; }
    const body = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
    let ok = false;
    let answered = false;
    let offset = 0;
    res.cork(() => {
      offset = res.getWriteOffset();
      [ok, answered] = res.tryEnd(body, length);
    });
    if (answered) { finish(); return; }
    if (ok) return;
    source.pause();
    pending = true;
    res.onWritable((now) => {
      if (gone()) { finish(); return true; }
      const [sent, over] = res.tryEnd(body.slice(now - offset), length);
      if (over) finish();
      else if (sent) { pending = false; source.resume(); }
      return sent;
    });
  });
  source.once('error', () => {
    // The head is out: the only way left to say "broken" is to cut the connection.
    if (!done && !gone()) res.close();
    done = true;
  });
  source.once('end', () => {
    // A source shorter than it said: never leave the client waiting for the missing bytes.
    if (!done && !pending && !gone()) res.close();
  });
}
