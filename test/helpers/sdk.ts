// The SDK under test (relay-client, as an app imports it) on Node: ws's WebSocket, an event
// recorder, and clients closed after the file.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RelayClient, RelayError, type RelayClientOptions, type RelayEvents } from 'relay-client';

const clients: RelayClient[] = [];
after(() => { for (const c of clients) c.close(); });

/** A RelayClient on `url` with ws's WebSocket and quick reconnects; closed in `after`. */
export function sdk(url: string, token: string, opts: Partial<RelayClientOptions> = {}): RelayClient {
  const c = new RelayClient({ url, token, WebSocket, reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, ...opts });
  clients.push(c);
  return c;
}

type Entry = { [K in keyof RelayEvents]: { event: K; payload: RelayEvents[K] } }[keyof RelayEvents];

/** Records every event of a client, in order, and waits for the ones a test expects. */
export class Recorder {
  readonly log: Entry[] = [];
  private waiters: { test: (e: Entry) => boolean; resolve: (e: Entry) => void }[] = [];

  constructor(client: RelayClient, events: (keyof RelayEvents)[]) {
    for (const event of events) {
      client.on(event, (payload) => {
        const e = { event, payload } as Entry;
        this.log.push(e);
        this.waiters = this.waiters.filter((w) => (w.test(e) ? (w.resolve(e), false) : true));
      });
    }
  }

  all<K extends keyof RelayEvents>(event: K): RelayEvents[K][] {
    return this.log.filter((e) => e.event === event).map((e) => e.payload as RelayEvents[K]);
  }

  /** The first event `event` (already recorded or still to come) whose payload matches. */
  wait<K extends keyof RelayEvents>(event: K, match: (p: RelayEvents[K]) => boolean = () => true, timeoutMs = 5000): Promise<RelayEvents[K]> {
    const test = (e: Entry): boolean => e.event === event && match(e.payload as RelayEvents[K]);
    const seen = this.log.find(test);
    if (seen) return Promise.resolve(seen.payload as RelayEvents[K]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for the ${String(event)} event`)), timeoutMs);
      this.waiters.push({ test, resolve: (e) => { clearTimeout(timer); resolve(e.payload as RelayEvents[K]); } });
    });
  }
}

/** `p` rejects with a RelayError of `code`; answers it. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<RelayError> {
  const err = await p.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof RelayError, String(err));
  assert.equal(err.code, code, err.message);
  return err;
}

/** A connected client of `account` on `url` that records `events`. */
export async function connectedSdk(url: string, token: string, events: (keyof RelayEvents)[]): Promise<{ c: RelayClient; rec: Recorder }> {
  const c = sdk(url, token);
  const rec = new Recorder(c, events);
  await c.connect();
  return { c, rec };
}
