/**
 * Spreading connections over generator processes and server nodes. Both are round-robin,
 * but on different digits of the connection index, so that every generator process talks
 * to every node (with 2 agents and 2 nodes, i % 2 for both would pin agent 0 to node 0).
 */
export function agentOf(index: number, agents: number): number {
  return index % agents;
}

export function nodeOf(index: number, agents: number, nodes: number): number {
  return Math.floor(index / agents) % nodes;
}

/** items[i] goes to agent agentOf(i). */
export function splitByAgent<T>(items: readonly T[], agents: number): T[][] {
  const parts: T[][] = Array.from({ length: agents }, () => []);
  items.forEach((item, index) => parts[agentOf(index, agents)]?.push(item));
  return parts;
}
