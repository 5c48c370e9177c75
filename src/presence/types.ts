/** A user went online (first socket anywhere) or offline (grace over, no socket anywhere). */
export interface PresenceChange {
  userId: number;
  online: boolean;
  /** When the last socket closed (ms since epoch); null for online. */
  lastSeenAt: number | null;
}

/** Timings, from config (PRESENCE_*). */
export interface PresenceTimings {
  /** A user whose last socket closed stays online this long (a reconnect shows nothing). */
  graceMs: number;
  /** Cluster: how long a node's claim on its users lives without renewal (a dead node's users go offline after it). */
  nodeTtlMs: number;
  /** How often lapsed claims and graces are looked for. */
  sweepMs: number;
}

/**
 * Who is online. The connection layer reports this node's sockets per user (0→1: `up`, →0:
 * `down`); the implementation reports each real change exactly once, cluster-wide, through the
 * `onChange` it was built with. Local: in memory. Cluster: Redis.
 */
export interface Presence {
  up(userId: number): void;
  down(userId: number, at: number): void;
  /** Which of `userIds` are online now (grace included). */
  online(userIds: number[]): Promise<Set<number>>;
  close(): Promise<void>;
}

export type OnPresenceChange = (changes: PresenceChange[]) => void;
