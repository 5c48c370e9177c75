// A real Redis Cluster of the test file's own: 3 masters + 3 replicas (redis-server
// --cluster-enabled yes on free ports, joined by `redis-cli --cluster create`), in a temporary
// directory that `stop` removes with the processes.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './kit.js';
import { redisAnswers } from './redis.js';

const run = promisify(execFile);

interface ClusterNode {
  port: number;
  busPort: number;
  proc: ChildProcess | undefined;
}

export interface SlotOwner {
  port: number;
  id: string;
}

export class OwnRedisCluster {
  private constructor(readonly dir: string, readonly nodes: ClusterNode[]) {}

  /** Process ids of the live nodes (the bench meters their CPU). */
  get pids(): number[] {
    return this.nodes.flatMap((n) => (n.proc?.pid === undefined ? [] : [n.proc.pid]));
  }

  /** `host:port,...` of every node: what REDIS_CLUSTER_NODES takes. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async start({ masters = 3, replicas = 1 }: { masters?: number; replicas?: number } = {}): Promise<OwnRedisCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'relay-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const used = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!used.has(p)) { used.add(p); return p; }
      }
    };
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push({ port: await port(), busPort: await port(), proc: undefined });
    const cluster = new OwnRedisCluster(dir, nodes);
    try {
      await Promise.all(nodes.map((n) => cluster.spawnNode(n)));
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
      // (redis-cli orders the masters first: with replicas 0, every node is a master.)
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private async spawnNode(n: ClusterNode): Promise<void> {
    const proc = spawn('redis-server', [
      '--port', String(n.port), '--bind', '127.0.0.1', '--daemonize', 'no', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${n.port}.conf`,
      '--cluster-port', String(n.busPort),
      // Fast failover for the tests: a master silent for 1 s is failed; any replica may take over.
      '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.proc = proc;
    proc.once('exit', () => { if (n.proc === proc) n.proc = undefined; });
    process.once('exit', () => proc.kill('SIGKILL'));
    if (!(await redisAnswers(n.port, 10_000))) throw new Error(`redis-server did not start on port ${n.port}`);
  }

  /** One command on one node (a connection of its own, closed after). */
  async call(port: number, ...args: (string | number)[]): Promise<unknown> {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await r.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      r.disconnect();
    }
  }

  /** Until every live node says cluster_state:ok and all 16384 slots are served, with the masters agreed on. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.nodes.filter((n) => n.proc);
      const infos = await Promise.all(live.map((n) => this.call(n.port, 'CLUSTER', 'INFO').catch(() => '')));
      const healthy = infos.every((i) => /cluster_state:ok/.test(String(i)) && /cluster_slots_ok:16384/.test(String(i)));
      if (healthy && (await this.slotMapsAgree(live))) return;
      if (Date.now() > deadline) throw new Error(`the Redis cluster is not healthy after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async slotMapsAgree(live: ClusterNode[]): Promise<boolean> {
    const maps = await Promise.all(live.map((n) => this.call(n.port, 'CLUSTER', 'SLOTS').then(
      (s) => JSON.stringify((s as [number, number, [string, number, string]][]).map(([a, b, m]) => [a, b, m[1]]).sort((x, y) => x[0]! - y[0]!)),
      () => '',
    )));
    return maps.every((m) => m !== '' && m === maps[0]);
  }

  /** The master serving `slot` now, as a live node sees it. */
  async ownerOf(slot: number): Promise<SlotOwner> {
    const live = this.nodes.find((n) => n.proc)!;
    const slots = (await this.call(live.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const range = slots.find(([a, b]) => slot >= a && slot <= b);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return { port: range[2][1], id: range[2][2] };
  }

  /** The masters now: port and node id. */
  async masters(): Promise<SlotOwner[]> {
    const live = this.nodes.find((n) => n.proc)!;
    const slots = (await this.call(live.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const byPort = new Map(slots.map(([, , m]) => [m[1], { port: m[1], id: m[2] }]));
    return [...byPort.values()];
  }

  /**
   * Moves one slot to another master the way `redis-cli --cluster reshard` does: IMPORTING on the
   * target, MIGRATING on the source, its keys MIGRATEd, then SETSLOT NODE on both and the others.
   */
  async migrateSlot(slot: number, to: SlotOwner): Promise<void> {
    const from = await this.ownerOf(slot);
    if (from.port === to.port) throw new Error('the slot is already there');
    await this.call(to.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
    await this.call(from.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
    for (;;) {
      const keys = (await this.call(from.port, 'CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await this.call(from.port, 'MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
    }
    await this.call(to.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    await this.call(from.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
    for (const m of await this.masters()) {
      if (m.port !== from.port && m.port !== to.port) await this.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', to.id).catch(() => undefined);
    }
  }

  /** Kills a node the way a crash would. */
  async kill(port: number): Promise<void> {
    const n = this.nodes.find((x) => x.port === port);
    const proc = n?.proc;
    if (!n || !proc) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
    n.proc = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.port)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
