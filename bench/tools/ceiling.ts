/**
 * How many deliveries/s one generator process can receive, so that a bench figure can be told
 * apart from a generator limit. A trivial uWebSockets.js source (no database, no auth)
 * publishes Relay-shaped group pushes to C connections in topics of 50, at a fixed rate; one
 * receiver process, built like the real generator (lean client, frame scan, latency
 * histogram), counts what arrives.
 *
 *   node dist/bench/tools/ceiling.js [rate publishes/s = 8000] [connections = 5000] [seconds = 10]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import uWS from 'uWebSockets.js';
import { nowMicros, sleep } from '../lib/clock.js';
import { openMany } from '../lib/connector.js';
import { newHistogram, summarize } from '../lib/histogram.js';
import { newFacts, scanFrame, tagValue } from '../lib/scan.js';

const TOPIC_SIZE = 50;
const SELF = fileURLToPath(import.meta.url);

type Message = { port: number } | { sent: number } | { received: number; seconds: number; cores: number; elu: number; p50: number; p99: number } | 'go' | 'stop';

function send(message: Message): void {
  process.send?.(message);
}

function nextMessage<T extends Message>(from: NodeJS.Process | ReturnType<typeof fork>, accept: (message: Message) => message is T): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: Message): void => {
      if (!accept(message)) return;
      from.off('message', listener);
      resolve(message);
    };
    from.on('message', listener);
  });
}

function source(rate: number, seconds: number): void {
  const app = uWS.App();
  let joined = 0;
  app.ws<{ index: number }>('/*', {
    idleTimeout: 0,
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res, req, context) =>
      res.upgrade({ index: joined++ }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context),
    open: (ws) => void ws.subscribe(`g${Math.floor(ws.getUserData().index / TOPIC_SIZE)}`),
  });
  app.listen('127.0.0.1', 0, (listen) => send({ port: uWS.us_socket_local_port(listen) }));
  process.on('message', (message: Message) => {
    if (message !== 'go') return;
    const topics = Math.max(1, Math.ceil(joined / TOPIC_SIZE));
    const started = performance.now();
    let sent = 0;
    const tick = (): void => {
      const due = Math.floor(((performance.now() - started) * rate) / 1000);
      for (; sent < due; sent++) {
        const content = `@t${nowMicros()}`;
        const group = sent % topics;
        app.publish(`g${group}`, JSON.stringify({ type: 'messageInGroup', success: true, params: { data: { id: sent, groupId: group, groupName: `g${group}`, senderId: 1, content, createdAt: new Date().toISOString() }, message: content, senderName: 'u1' } }), false);
      }
      if (performance.now() - started < seconds * 1000) setTimeout(tick, 1);
      else send({ sent });
    };
    tick();
  });
}

async function receiver(port: number, connections: number): Promise<void> {
  const facts = newFacts();
  const latency = newHistogram();
  let received = 0;
  const handlers = {
    onMessage(frame: Buffer): void {
      scanFrame(frame, facts);
      if (facts.requestId !== -1 || facts.tagAt === -1) return;
      received++;
      latency.recordValue(Math.max(0, nowMicros() - tagValue(frame, facts.tagAt)));
    },
    onClose: (): void => undefined,
  };
  const report = await openMany(Array.from({ length: connections }, () => ({ target: { host: '127.0.0.1', port }, token: 'none', handlers })), 128);
  if (report.opened < connections) throw new Error(`only ${report.opened} of ${connections} connections opened`);
  send({ received: 0, seconds: 0, cores: 0, elu: 0, p50: 0, p99: 0 });
  await nextMessage(process, (message): message is 'go' => message === 'go');
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  await nextMessage(process, (message): message is 'stop' => message === 'stop');
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const summary = summarize(latency);
  send({ received, seconds, cores: (used.user + used.system) / 1e6 / seconds, elu: performance.eventLoopUtilization(elu).utilization, p50: summary.p50, p99: summary.p99 });
}

async function main(): Promise<void> {
  const [rate = 8000, connections = 5000, seconds = 10] = process.argv.slice(2).map(Number);
  const sourceProcess = fork(SELF, ['--source', String(rate), String(seconds)]);
  try {
    const { port } = await nextMessage(sourceProcess, (message): message is { port: number } => typeof message === 'object' && 'port' in message);
    const receiverProcess = fork(SELF, ['--receiver', String(port), String(connections)]);
    try {
      const isResult = (message: Message): message is Extract<Message, { received: number }> => typeof message === 'object' && 'received' in message;
      await nextMessage(receiverProcess, isResult);
      receiverProcess.send('go');
      sourceProcess.send('go');
      const { sent } = await nextMessage(sourceProcess, (message): message is { sent: number } => typeof message === 'object' && 'sent' in message);
      await sleep(500);
      receiverProcess.send('stop');
      const result = await nextMessage(receiverProcess, isResult);
      const expected = sent * TOPIC_SIZE;
      console.log(
        `published ${sent} to topics of ${TOPIC_SIZE}: ${Math.round(result.received / seconds).toLocaleString('en-US')} deliveries/s received ` +
          `(${result.received} of ${expected}), receiver ${result.cores.toFixed(2)} cores, event loop ${Math.round(result.elu * 100)}% busy, ` +
          `latency p50 ${result.p50} ms p99 ${result.p99} ms`,
      );
    } finally {
      receiverProcess.kill();
    }
  } finally {
    sourceProcess.kill();
  }
}

const [role, first = '0', second = '0'] = process.argv.slice(2);
if (role === '--source') source(Number(first), Number(second));
else if (role === '--receiver') await receiver(Number(first), Number(second));
else await main();
