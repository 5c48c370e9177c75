/**
 * Kernel TCP counters (/proc/net/netstat, whole network namespace). A connect burst larger
 * than the server's accept queue makes the kernel drop SYNs, which clients retry after a
 * second: a handshake rate that looks like a slow server is often this, so it is reported.
 */
import { readFileSync } from 'node:fs';

const WATCHED = ['ListenOverflows', 'ListenDrops', 'TCPSynRetrans'] as const;
export type TcpCounters = Record<(typeof WATCHED)[number], number>;

export function tcpCounters(): TcpCounters {
  const counters: TcpCounters = { ListenOverflows: 0, ListenDrops: 0, TCPSynRetrans: 0 };
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    // Pairs of lines: "TcpExt: Name1 Name2 ..." then "TcpExt: value1 value2 ...".
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = (lines[i] ?? '').split(' ');
      const values = (lines[i + 1] ?? '').split(' ');
      for (const name of WATCHED) {
        const at = names.indexOf(name);
        if (at > 0) counters[name] = Number(values[at] ?? 0);
      }
    }
  } catch {
    // Not Linux: the counters stay at zero.
  }
  return counters;
}

export function counterDelta(before: TcpCounters, after: TcpCounters): TcpCounters {
  return {
    ListenOverflows: after.ListenOverflows - before.ListenOverflows,
    ListenDrops: after.ListenDrops - before.ListenDrops,
    TCPSynRetrans: after.TCPSynRetrans - before.TCPSynRetrans,
  };
}
