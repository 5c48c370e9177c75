import * as v from 'valibot';
import type { Services } from '../../services.js';
import type { AuthedRoute } from '../router.js';
import { json } from '../respond.js';
import { parseOrThrow } from '../../validate.js';
import { ClientError, ErrorCode } from '../../protocol.js';
import { hashPassword, verifyPassword } from '../../auth/passwords.js';
import { isUniqueViolation } from '../../db/client.js';
import { announceLeave, announceNewOwner, revokeSessions } from '../../announce.js';
import { email, password, personName } from './auth.js';

export const ProfilePatchBody = v.object({
  email: v.optional(email),
  firstName: v.optional(personName('firstName')),
  lastName: v.optional(v.nullable(personName('lastName'))),
});
export const PasswordBody = v.object({ oldPassword: v.string('oldPassword must be a string'), newPassword: password });

const gone = (): ClientError => new ClientError(ErrorCode.NOT_FOUND, 'Account not found');

export function profileRoutes(s: Services): AuthedRoute[] {
  return [
    {
      method: 'get', path: '/profile', auth: true,
      async handle(_req, me) {
        const user = await s.users.byId(me.id);
        if (!user) throw gone();
        return json(200, user);
      },
    },
    {
      method: 'patch', path: '/profile', auth: true, body: true,
      async handle(req, me) {
        const patch = parseOrThrow(ProfilePatchBody, req.body);
        try {
          const user = await s.users.update(me.id, patch);
          if (!user) throw gone();
          return json(200, user);
        } catch (err) {
          if (isUniqueViolation(err)) throw new ClientError(ErrorCode.CONFLICT, 'An account with this email already exists');
          throw err;
        }
      },
    },
    {
      method: 'patch', path: '/profile/password', auth: true, body: true,
      async handle(req, me) {
        const body = parseOrThrow(PasswordBody, req.body);
        const current = await s.users.credentialsById(me.id);
        if (!current) throw gone();
        if (!(await verifyPassword(current.passwordHash, body.oldPassword))) {
          throw new ClientError(ErrorCode.UNAUTHORIZED, 'Wrong password');
        }
        const tokenVersion = await s.users.setPassword(me.id, await hashPassword(body.newPassword));
        if (tokenVersion === undefined) throw gone();
        // The old devices' notifications stop with their tokens (PROTOCOL.md v1.2).
        await s.push.subscriptions.removeAll(me.id);
        // Before answering: the old sockets are gone by the time the client holds the new token.
        revokeSessions(s.pubsub, me.id, 'Password changed');
        s.log.info({ userId: me.id }, 'password changed');
        const token = await s.tokens.issue({ id: me.id, email: current.email, firstName: current.firstName, tv: tokenVersion });
        return json(200, { token });
      },
    },
    {
      method: 'del', path: '/profile', auth: true,
      async handle(_req, me) {
        const left = await s.users.softDelete(me.id);
        if (!left) throw gone();
        await s.push.subscriptions.removeAll(me.id);
        for (const g of left) {
          announceLeave(s.pubsub, { groupId: g.groupId, userId: me.id, name: me.firstName });
          if (g.newOwnerId !== undefined) announceNewOwner(s.pubsub, { groupId: g.groupId, userId: g.newOwnerId, by: me.firstName });
        }
        revokeSessions(s.pubsub, me.id, 'Account deleted');
        // Its files go with it: out of the messages that carried them, rows and bytes.
        for (const f of await s.files.deleteOwnedBy(me.id)) s.fileService.forget(f.id, f.hasThumbnail);
        s.log.info({ userId: me.id }, 'account deleted');
        return json(200, { message: 'Account deleted' });
      },
    },
  ];
}
