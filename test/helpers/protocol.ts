// Shared pieces of the WebSocket tests: a per-file Relay fixture and the checks of the envelope
// (PROTOCOL.md "Envelope"): success replies, pushes, error replies.
//
// One contract, several transports. `useRelay` starts the server on local pub/sub, through Redis
// when RELAY_TEST_PUBSUB=redis, or through a Redis Cluster of the file's own (sharded pub/sub) when
// RELAY_TEST_PUBSUB=redis-cluster. Every ws-*.test.ts runs on local and Redis: a new ws-foo.test.ts
// written with `useRelay` gets its Redis run from ONE line, in a file of its own,
// test/ws-foo.redis.test.ts:
//
//   process.env.RELAY_TEST_PUBSUB = 'redis'; await import('./ws-foo.test.js');
//
// (node --test runs each file in its own process, so the variable reaches only that run.) A
// cluster costs six redis-server processes, so only some suites also run on one, from a
// ws-foo.redis-cluster.test.ts; the cluster suites (several nodes: `opts.broker`) run on Redis by
// default and on a Redis Cluster from their *.redis-cluster.test.ts.
//
// Absence of a push is proven with a marker (Client.marker): a round trip on the connection
// after the thing that must not arrive, never a sleep.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startRelay, type RelayProcess } from './server.js';
import { Client, sleep, socketPool, type Account, type Frame } from './client.js';
import { SHARED_REDIS_URL, dropPrefix, testPrefix } from './redis.js';
import { startBroker, type TestBroker } from './broker.js';

export type PubSubKind = 'local' | 'redis' | 'redis-cluster';

/** The transport this run tests: RELAY_TEST_PUBSUB=redis or redis-cluster, or local pub/sub. */
export const testPubSub = (): PubSubKind => {
  const kind = process.env.RELAY_TEST_PUBSUB;
  return kind === 'redis' || kind === 'redis-cluster' ? kind : 'local';
};

/**
 * `env` for a server on the broker (REDIS_URL or REDIS_CLUSTER_NODES, and REDIS_PREFIX), unless
 * `env` names one itself; no broker: local pub/sub.
 */
export function withPubSub(env: Record<string, string | undefined>, broker: TestBroker | undefined): Record<string, string | undefined> {
  if (!broker || 'REDIS_URL' in env || 'REDIS_CLUSTER_NODES' in env) return env;
  return { ...broker.env, ...env };
}

/** The transport a server started with `env` is on: what its 'listening' line must say. */
const brokerOf = (env: Record<string, string | undefined>): PubSubKind =>
  env.REDIS_CLUSTER_NODES !== undefined ? 'redis-cluster' : env.REDIS_URL !== undefined ? 'redis' : 'local';

export type AuthHow = 'header' | 'protocol';

export interface RelayFixture {
  /** The server started in `before` (throws if read before it started): `nodes[0]`. */
  readonly relay: RelayProcess;
  /** Every server started in `before` (`opts.nodes` of them, on the same database and `env`). */
  readonly nodes: readonly RelayProcess[];
  /** The file's own database, created in `before`, dropped in `after`. */
  readonly db: TestDatabase;
  /** The broker of this run (undefined on local pub/sub): its env, prefix, subscriber counts. */
  readonly broker: TestBroker | undefined;
  /**
   * Opens a Client (as `account`, or with a raw token) on `url` (the fixture's server by
   * default); it is terminated in `after`.
   */
  connect(account: Account | string, how?: AuthHow, url?: string): Promise<Client>;
  /** Starts one more server on the same database (already migrated); it is stopped in `after`, with the first. */
  startAnother(env: Record<string, string | undefined>): Promise<RelayProcess>;
}

/**
 * Registers node:test hooks for this file: `before` creates a database of its own (`label`),
 * starts a server on it with `env` (on this run's transport: see the top of this file), then runs `setup` (the file's own preparation: a top-level
 * `before` of the file's own would not wait for this one); `after` terminates every Client
 * opened through `connect`, stops the servers and drops the database.
 */
export function useRelay(
  label: string,
  env: Record<string, string | undefined> = {},
  setup?: (fixture: RelayFixture) => Promise<void>,
  /**
   * `nodes`: how many servers to start on the database with `env` (default 1); they share the
   * broker and its prefix: one cluster. `broker`: the suite needs one whatever the run (a cluster
   * suite): the run's own if it has one (RELAY_TEST_PUBSUB), else the machine's Redis.
   */
  opts: { nodes?: number; broker?: boolean } = {},
): RelayFixture {
  let db: TestDatabase | undefined;
  let relay: RelayProcess | undefined;
  let broker: TestBroker | undefined;
  const runKind = testPubSub();
  const kind: PubSubKind = opts.broker && runKind === 'local' ? 'redis' : runKind;
  const nodes: RelayProcess[] = [];
  const others: RelayProcess[] = [];
  const sockets = socketPool();
  const sharedPrefixes = new Set<string>();
  const start = (serverEnv: Record<string, string | undefined>): Promise<RelayProcess> => {
    if (serverEnv.REDIS_URL === SHARED_REDIS_URL && serverEnv.REDIS_PREFIX !== undefined) sharedPrefixes.add(serverEnv.REDIS_PREFIX);
    return startRelay(serverEnv);
  };

  before(async () => {
    [db, broker] = await Promise.all([
      createTestDatabase(`${label}${kind === 'local' ? '' : `_${kind.replace('-', '_')}`}`),
      kind === 'local' ? undefined : startBroker(kind),
    ]);
    const serverEnv = { DATABASE_URL: db.url, ...withPubSub(env, broker) };
    relay = await start(serverEnv);
    // The first applied the migrations; the others find them done.
    nodes.push(relay, ...(await Promise.all(Array.from({ length: (opts.nodes ?? 1) - 1 }, () => start(serverEnv)))));
    // The run is on the transport it claims to be, or it tests nothing new.
    const listening = relay.logs.find((l) => l.msg === 'listening');
    assert.equal(listening?.broker, brokerOf(serverEnv), `server started on ${String(listening?.broker)}`);
    await setup?.(fixture);
  });
  after(async () => {
    sockets.terminateAll();
    await Promise.all([relay?.stop(), ...nodes.slice(1).map((r) => r.stop()), ...others.map((r) => r.stop())]);
    await broker?.stop();
    // Prefixes of the servers' own on the shared Redis (a file's env, startAnother): nothing stays.
    await dropPrefix(SHARED_REDIS_URL, ...sharedPrefixes);
    await db?.drop();
  });

  const fixture: RelayFixture = {
    get relay(): RelayProcess {
      if (!relay) throw new Error('the relay is not started yet');
      return relay;
    },
    get nodes(): readonly RelayProcess[] {
      if (nodes.length === 0) throw new Error('the relay is not started yet');
      return nodes;
    },
    get db(): TestDatabase {
      if (!db) throw new Error('the test database is not created yet');
      return db;
    },
    get broker(): TestBroker | undefined {
      return broker;
    },
    connect: (account, how = 'header', url = fixture.relay.ws) =>
      sockets.connect(url, typeof account === 'string' ? account : account.token, how),
    async startAnother(extraEnv) {
      // A prefix of its own: like on local pub/sub, it is a separate node unless `extraEnv` says
      // otherwise (REDIS_PREFIX of the fixture's broker).
      const r = await start(withPubSub(extraEnv, broker && { ...broker, env: { ...broker.env, REDIS_PREFIX: testPrefix() } }));
      others.push(r);
      return r;
    },
  };
  return fixture;
}

/**
 * How long the cluster tests wait before concluding that a duplicate relayed through Redis did
 * not come: a relay from another node is not ordered with anything a client can send itself.
 * Single-node tests never wait: they use markers.
 */
export const QUIET_MS = 300;

export function assertIsoDate(value: unknown, what: string): void {
  assert.equal(typeof value, 'string', `${what} is a string`);
  assert.match(value as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, `${what} is an ISO date`);
}

/** A success reply: the brief's envelope with message/senderName null and the requestId echoed. */
export function assertReply(f: Frame, type: string): any {
  assert.equal(f.error, undefined, `expected a success reply to ${type}, got ${JSON.stringify(f)}`);
  assert.deepEqual(Object.keys(f).sort(), ['params', 'requestId', 'success', 'type']);
  assert.equal(f.type, type);
  assert.equal(f.success, true);
  assert.deepEqual(Object.keys(f.params).sort(), ['data', 'message', 'senderName']);
  assert.equal(f.params.message, null);
  assert.equal(f.params.senderName, null);
  return f.params.data;
}

/** Sends a request, checks the reply with `assertReply` and returns its data. */
export async function ok(c: Client, type: string, params?: unknown): Promise<any> {
  return assertReply(await c.request(type, params), type);
}

/**
 * Looser than `ok`: only checks that the reply has `success: true`, and returns its data
 * (the cluster tests check delivery across nodes, not the envelope).
 */
export async function okLoose(c: Client, type: string, params: unknown): Promise<any> {
  const reply = await c.request(type, params);
  assert.equal(reply.success, true, `${type} failed: ${JSON.stringify(reply)}`);
  return reply.params.data;
}

/** A push: the same envelope with message and senderName filled, never a requestId. */
export function assertPush(f: Frame, type: string, message: string | null, senderName: string): any {
  assert.deepEqual(Object.keys(f).sort(), ['params', 'success', 'type'], `push keys: ${JSON.stringify(f)}`);
  assert.equal(f.type, type);
  assert.equal(f.success, true);
  assert.deepEqual(Object.keys(f.params).sort(), ['data', 'message', 'senderName']);
  assert.equal(f.params.message, message);
  assert.equal(f.params.senderName, senderName);
  return f.params.data;
}

/**
 * Sends a request and checks the error reply: {code, error: true, message, requestId, type}
 * with `code`, and a non-empty message without SQL or a stack trace.
 */
export async function errorOf(c: Client, type: string, params: unknown, code: string): Promise<Frame> {
  const f = await c.request(type, params);
  assert.deepEqual(Object.keys(f).sort(), ['code', 'error', 'message', 'requestId', 'type'], JSON.stringify(f));
  assert.equal(f.error, true);
  assert.equal(f.type, type);
  assert.equal(f.code, code, JSON.stringify(f));
  assert.equal(typeof f.message, 'string');
  assert.ok(f.message.length > 0);
  assert.doesNotMatch(f.message, /\b(select|insert|relation|syntax)\b|\n\s+at /i);
  return f;
}

/** How many pushes of `type` whose data matches `c` has received so far. */
export function count(c: Client, type: string, match: (data: any) => boolean): number {
  return c.pushes(type).filter((f) => match(f.params.data)).length;
}

/**
 * No push of `type` matching `match` arrived on `c`: proven with a marker round trip on `c` sent
 * after whatever must not cause it (see Client.marker). `_waitMs` is ignored; it is kept so that
 * calls written for the former quiet period still compile.
 */
export async function assertNoPush(c: Client, type: string, match: (d: any) => boolean, what: string, _waitMs?: number): Promise<void> {
  await c.marker();
  const got = c.pushes(type).filter((f) => match(f.params.data));
  assert.equal(got.length, 0, `${what}: unexpected ${type} push ${JSON.stringify(got)}`);
}

/** Marker round trips on every client: what their node was going to send them has arrived. */
export async function settle(cs: Client[]): Promise<void> {
  await Promise.all(cs.map((c) => c.marker()));
}

/**
 * Every client gets the push (within 3 s), and still exactly one of it after a marker on each;
 * `settleMs` adds a quiet period for duplicates that would come through another node (cluster).
 */
export async function expectOnce(cs: Client[], type: string, match: (data: any) => boolean, settleMs = 0): Promise<void> {
  await Promise.all(cs.map((c) => c.push(type, match, 3000)));
  await settle(cs);
  if (settleMs > 0) await sleep(settleMs);
  for (const [i, c] of cs.entries()) assert.equal(count(c, type, match), 1, `client #${i}: one ${type} push`);
}

/** Expects Client.connect to `url` with `token` to be refused with HTTP 401. */
export async function expect401(url: string, token: string, how: AuthHow = 'header'): Promise<void> {
  await assert.rejects(Client.connect(url, token, how), (err: Error & { status?: number }) => {
    assert.equal(err.status, 401, `expected 401, got ${err.message}`);
    return true;
  });
}
