/**
 * A full garbage collection in a server the bench started with `--inspect=127.0.0.1:0` (option
 * --gc), through the inspector protocol's HeapProfiler.collectGarbage, so that an RSS reading
 * counts what connections keep and not the garbage of the handshake burst. The inspector listens
 * on loopback only and only while the bench runs.
 */
import WebSocket from 'ws';

const INSPECTOR_LINE = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;

/** The inspector address a node printed at start-up, or null. */
export function inspectorUrl(output: string): string | null {
  return INSPECTOR_LINE.exec(output)?.[1] ?? null;
}

/** Runs a full GC in the process behind `url`; resolves when it is done. */
export function collectGarbage(url: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer from the inspector at ${url} in ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      socket.close();
      if (error === null) resolve();
      else reject(error);
    };
    socket.once('error', (error) => finish(error));
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    socket.on('message', (data) => {
      const answer = JSON.parse(String(data)) as { id?: number; error?: { message?: string } };
      if (answer.id !== 1) return;
      finish(answer.error === undefined ? null : new Error(`inspector: ${answer.error.message ?? 'error'}`));
    });
  });
}
