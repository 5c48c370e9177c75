import * as v from 'valibot';
import type { Services } from '../../services.js';
import type { AuthedRoute, Request, Route } from '../router.js';
import { json } from '../respond.js';
import { codePoints, parseOrThrow, storable } from '../../validate.js';
import { ClientError, ErrorCode } from '../../protocol.js';
import { hashPassword, verifyPassword, burnPasswordCheck } from '../../auth/passwords.js';
import { isUniqueViolation } from '../../db/client.js';

export const email = v.pipe(
  v.string('email must be a string'),
  v.trim(),
  v.maxLength(254, 'email must be at most 254 characters'),
  v.email('email must be a valid email address'),
);
export const password = v.pipe(
  v.string('password must be a string'),
  v.check((s) => codePoints(s) >= 8, 'password must be at least 8 characters'),
  v.check((s) => codePoints(s) <= 256, 'password must be at most 256 characters'),
  v.metadata({ minLength: 8, maxLength: 256 }),
);
export const personName = (field: string) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.check(storable, `${field} must be valid Unicode text without NUL characters`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    v.check((s) => codePoints(s) <= 100, `${field} must be at most 100 characters`),
    v.metadata({ maxLength: 100 }),
  );

export const SignUpBody = v.object({
  email,
  password,
  firstName: personName('firstName'),
  lastName: v.optional(v.nullable(personName('lastName'))),
});
export const LoginBody = v.object({
  email: v.pipe(v.string('email must be a string'), v.check(storable, 'email must be valid Unicode text without NUL characters')),
  password: v.string('password must be a string'),
});

const bodyEmail = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null && typeof (body as { email?: unknown }).email === 'string'
    ? (body as { email: string }).email.trim()
    : undefined;

export function authRoutes(s: Services): (Route | AuthedRoute)[] {
  const issue = (u: { id: number; email: string; firstName: string }, tv: number) =>
    s.tokens.issue({ id: u.id, email: u.email, firstName: u.firstName, tv });

  return [
    {
      method: 'post', path: '/auth/sign-up', body: true,
      async handle(req: Request) {
        await s.limits.authAttempt(req.ip, bodyEmail(req.body));
        const body = parseOrThrow(SignUpBody, req.body);
        const passwordHash = await hashPassword(body.password);
        try {
          const user = await s.users.insert({ email: body.email, passwordHash, firstName: body.firstName, lastName: body.lastName ?? null });
          s.log.info({ userId: user.id }, 'account created');
          return json(201, { user, token: await issue(user, 0) });
        } catch (err) {
          if (isUniqueViolation(err)) throw new ClientError(ErrorCode.CONFLICT, 'An account with this email already exists');
          throw err;
        }
      },
    },
    {
      method: 'post', path: '/auth/login', body: true,
      async handle(req: Request) {
        await s.limits.authAttempt(req.ip, bodyEmail(req.body));
        const body = parseOrThrow(LoginBody, req.body);
        const found = await s.users.credentialsByEmail(body.email.trim());
        // Same message, and the same argon2 work, whether the email is unknown or the password wrong.
        if (!found) {
          await burnPasswordCheck(body.password);
          throw new ClientError(ErrorCode.UNAUTHORIZED, 'Wrong email or password');
        }
        if (!(await verifyPassword(found.passwordHash, body.password))) {
          throw new ClientError(ErrorCode.UNAUTHORIZED, 'Wrong email or password');
        }
        const { passwordHash: _h, tokenVersion, ...user } = found;
        return json(200, { message: 'User is authorized', token: await issue(user, tokenVersion), user });
      },
    },
    {
      method: 'post', path: '/auth/refresh', auth: true,
      async handle(_req, me) {
        const user = await s.users.byId(me.id);
        if (!user) throw new ClientError(ErrorCode.UNAUTHORIZED, 'Token revoked');
        return json(200, { token: await issue(user, me.tokenVersion) });
      },
    },
  ];
}
