// A TCP proxy between a client and the server, to make network faults happen on purpose: replies
// that never arrive, connections cut, a server that cannot be reached.
import net from 'node:net';

export interface FaultProxy {
  /** ws:// URL of the proxy. */
  url: string;
  /** Server → client bytes are dropped (requests still reach the server). */
  holdReplies(on: boolean): void;
  /** New connections are closed at once (the server looks down). */
  refuse(on: boolean): void;
  /** New connections go to this port from now on (a server restarted elsewhere). */
  retarget(port: number): void;
  /** Cuts every open connection. */
  cut(): void;
  close(): Promise<void>;
}

export async function startProxy(port0: number): Promise<FaultProxy> {
  let targetPort = port0;
  const open = new Set<net.Socket>();
  let hold = false;
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) { client.destroy(); return; }
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = (): void => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => { if (!hold) client.write(d); });
    client.on('close', drop).on('error', drop);
    upstream.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    holdReplies: (on) => { hold = on; },
    refuse: (on) => { refusing = on; },
    retarget: (p) => { targetPort = p; },
    cut: () => { for (const s of open) s.destroy(); open.clear(); },
    close: () => new Promise((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}
