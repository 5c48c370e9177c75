/**
 * A short reading of the server's V8 CPU profiles (--server-prof): the functions with the
 * most self time, to point at the server's bottleneck without opening a profiler UI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isProfile(value: unknown): value is CpuProfile {
  return typeof value === 'object' && value !== null && 'nodes' in value && 'samples' in value && 'timeDeltas' in value;
}

export function topSelfTime(file: string, limit = 20): string[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isProfile(parsed)) return [`${file}: not a CPU profile`];
  const timeById = new Map<number, number>();
  parsed.samples.forEach((id, index) => timeById.set(id, (timeById.get(id) ?? 0) + (parsed.timeDeltas[index] ?? 0)));
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of parsed.nodes) {
    const time = timeById.get(node.id) ?? 0;
    total += time;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.split('/').slice(-3).join('/')}:${lineNumber + 1}`;
    const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, time]) => `${((100 * time) / Math.max(1, total)).toFixed(1).padStart(5)}%  ${key}`);
}

export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(dir, name));
  } catch {
    return [];
  }
}
