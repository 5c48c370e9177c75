import { reactionHandler } from './reaction.js';

export const removeReaction = reactionHandler('removeReaction');
