import type { MessageHandler } from '../handler.js';
import { listLastMessage } from './listLastMessage.js';
import { getlatestMessageDialog } from './getlatestMessageDialog.js';
import { getlatestMessageGroup } from './getlatestMessageGroup.js';
import { newGroup } from './newGroup.js';
import { addUserInGroup } from './addUserInGroup.js';
import { leaveGroup } from './leaveGroup.js';
import { messageInGroup } from './messageInGroup.js';
import { privateMessage } from './privateMessage.js';

/** Message type → handler: the whole of the v1 WebSocket API. A Map, so "toString" is no type. */
export const handlers: ReadonlyMap<string, MessageHandler> = new Map<string, MessageHandler>(Object.entries({
  listLastMessage,
  getlatestMessageDialog,
  getlatestMessageGroup,
  newGroup,
  addUserInGroup,
  leaveGroup,
  messageInGroup,
  privateMessage,
}) as [string, MessageHandler][]);
