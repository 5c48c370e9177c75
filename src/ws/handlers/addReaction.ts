import { reactionHandler } from './reaction.js';

export const addReaction = reactionHandler('addReaction');
