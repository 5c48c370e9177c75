/**
 * A push service for the `notify` scenario: a local HTTP server that takes every POST (a Web
 * Push, encrypted; it is counted, not decrypted: the tests check payloads) and answers 201,
 * counting arrivals per second so that a measured window can be cut out of the timeline.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

export interface PushSink {
  origin: string;
  /** POSTs taken between two epoch-ms instants. */
  countBetween(from: number, to: number): number;
  total(): number;
  close(): Promise<void>;
}

export async function startPushSink(): Promise<PushSink> {
  const perSecond = new Map<number, number>();
  let total = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      total++;
      const second = Math.floor(Date.now() / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      res.writeHead(201).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    countBetween(from, to) {
      let n = 0;
      for (let s = Math.floor(from / 1000); s < Math.floor(to / 1000); s++) n += perSecond.get(s) ?? 0;
      return n;
    },
    total: () => total,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
