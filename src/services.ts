import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Sql } from './db/client.js';
import type { SocketState, Users } from './db/users.js';
import type { Groups } from './db/groups.js';
import type { Messages } from './db/messages.js';
import type { TokenService } from './auth/tokens.js';
import type { Principal } from './auth/authenticate.js';
import type { PubSub } from './pubsub/types.js';
import type { SocketRegistry } from './ws/sessions.js';
import type { Limits } from './limits.js';
import type { Metrics } from './metrics.js';
import type { InFlight } from './inflight.js';
import type { Presence } from './presence/types.js';
import type { PresenceStore } from './db/presence.js';
import type { TypingThrottle } from './ws/typingThrottle.js';
import type { Blocks } from './db/blocks.js';
import type { Search } from './db/search.js';
import type { Mutes } from './db/mutes.js';
import type { Push } from './push/service.js';
import type { Files } from './db/files.js';
import type { FileService } from './files/service.js';
import type { FileSigner } from './files/signing.js';

/** What routes and handlers may use: built once in server.ts, passed down, never global. */
export interface Services {
  config: Config;
  log: Logger;
  sql: Sql;
  users: Users;
  groups: Groups;
  messages: Messages;
  /** v1.2 files: their rows, the upload and download logic, and URL signatures. */
  files: Files;
  fileService: FileService;
  signer: FileSigner;
  presenceStore: PresenceStore;
  blocks: Blocks;
  search: Search;
  mutes: Mutes;
  /** Notifications to offline devices: keys, subscriptions, the socket ledger, the worker. */
  push: Push;
  /** Who is online, on this node or cluster-wide (REDIS_URL or REDIS_CLUSTER_NODES). */
  presence: Presence;
  typing: TypingThrottle;
  tokens: TokenService;
  pubsub: PubSub;
  /** Every open WebSocket on this node. */
  sessions: SocketRegistry;
  limits: Limits;
  metrics: Metrics;
  inflight: InFlight;
  authenticate(token: string | undefined): Promise<Principal>;
  /** The same check for a WebSocket upgrade, also loading the groups to subscribe to. */
  authenticateSocket(token: string | undefined): Promise<Principal<SocketState>>;
  /** True once shutdown began: readiness fails and new sockets are refused. */
  isClosing(): boolean;
}
