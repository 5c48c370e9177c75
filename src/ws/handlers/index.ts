import type * as v from 'valibot';
import type { MessageHandler } from '../handler.js';
import type { Complete, Encoded, JsonText } from '../../protocol.js';
import type { Methods, ReplyData } from '../../../client/src/wire.js';
import { listLastMessage } from './listLastMessage.js';
import { getlatestMessageDialog } from './getlatestMessageDialog.js';
import { getlatestMessageGroup } from './getlatestMessageGroup.js';
import { newGroup } from './newGroup.js';
import { addUserInGroup } from './addUserInGroup.js';
import { leaveGroup } from './leaveGroup.js';
import { messageInGroup } from './messageInGroup.js';
import { privateMessage } from './privateMessage.js';
import { typing } from './typing.js';
import { getPresence } from './getPresence.js';
import { getGroup } from './getGroup.js';
import { getGroupMembers } from './getGroupMembers.js';
import { renameGroup } from './renameGroup.js';
import { removeUserFromGroup } from './removeUserFromGroup.js';
import { setMemberRole } from './setMemberRole.js';
import { markRead } from './markRead.js';
import { editMessage } from './editMessage.js';
import { deleteMessage } from './deleteMessage.js';
import { addReaction } from './addReaction.js';
import { removeReaction } from './removeReaction.js';
import { pinMessage } from './pinMessage.js';
import { unpinMessage } from './unpinMessage.js';
import { getPinned } from './getPinned.js';

/**
 * Every message type of the wire contract (client/src/wire.ts, shared with the SDK) has its
 * handler here, and each handler returns what that type answers, v1.1's fields included
 * (Complete: the contract marks them optional for clients of v1 servers), as values or as JSON
 * text the database wrote (JsonText, the history reads): tsc fails on a drift.
 */
type HandlerTable = {
  [K in keyof Methods]: MessageHandler<v.GenericSchema, Encoded<Complete<ReplyData<K>>> | JsonText<Complete<ReplyData<K>>>>
};

const table = {
  listLastMessage,
  getlatestMessageDialog,
  getlatestMessageGroup,
  newGroup,
  addUserInGroup,
  leaveGroup,
  messageInGroup,
  privateMessage,
  typing,
  getPresence,
  getGroup,
  getGroupMembers,
  renameGroup,
  removeUserFromGroup,
  setMemberRole,
  markRead,
  editMessage,
  deleteMessage,
  addReaction,
  removeReaction,
  pinMessage,
  unpinMessage,
  getPinned,
} satisfies HandlerTable;

/** Message type → handler: the whole WebSocket API (v1, v1.1 and v1.2). A Map, so "toString" is no type. */
export const handlers: ReadonlyMap<string, MessageHandler> = new Map<string, MessageHandler>(
  Object.entries(table) as [string, MessageHandler][],
);
