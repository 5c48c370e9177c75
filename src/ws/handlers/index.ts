import type { MessageHandler } from '../handler.js';
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

/** Message type → handler: the whole WebSocket API (v1 and v1.1: live signals, group roles, conversation state). A Map, so "toString" is no type. */
export const handlers: ReadonlyMap<string, MessageHandler> = new Map<string, MessageHandler>(Object.entries({
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
}) as [string, MessageHandler][]);
