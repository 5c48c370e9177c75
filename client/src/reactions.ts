import type { Reaction, ReactionChange } from './wire.js';

/**
 * A message's reactions after an addReaction / removeReaction push, as user `me` sees them. The
 * push is encoded once for everyone, so it carries who acted and the emoji's new count rather
 * than `me`: `me` changes only when `me` acted. Order is first appearance: an emoji whose count
 * falls to 0 leaves the list, and one added anew goes last.
 */
export function applyReaction(
  reactions: readonly Reaction[],
  type: 'addReaction' | 'removeReaction',
  change: Pick<ReactionChange, 'emoji' | 'count' | 'userId'>,
  me: number,
): Reaction[] {
  const mine = change.userId === me;
  const at = reactions.findIndex((r) => r.emoji === change.emoji);
  if (change.count <= 0) return reactions.filter((r) => r.emoji !== change.emoji);
  if (at < 0) return [...reactions, { emoji: change.emoji, count: change.count, me: mine && type === 'addReaction' }];
  return reactions.map((r, i) => (i === at
    ? { emoji: r.emoji, count: change.count, me: mine ? type === 'addReaction' : r.me }
    : r));
}
