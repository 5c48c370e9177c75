import * as v from 'valibot';
import type { Services } from '../../services.js';
import type { AuthedRoute } from '../router.js';
import { json } from '../respond.js';
import { parseOrThrow, storable } from '../../validate.js';

const intParam = (name: string, min: number, max: number, fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `${name} must be an integer`),
      v.transform(Number),
      v.minValue(min, `${name} must be at least ${min}`),
      v.maxValue(max, `${name} must be at most ${max}`),
    ),
    String(fallback),
  );

export const UsersQuery = v.object({
  search: v.optional(v.pipe(v.string(), v.check(storable, 'search must be valid Unicode text without NUL characters'),
    v.trim(), v.maxLength(254, 'search must be at most 254 characters')), ''),
  limit: intParam('limit', 1, 100, 20),
  page: intParam('page', 1, 1_000_000, 1),
});

export function userRoutes(s: Services): AuthedRoute[] {
  return [
    {
      method: 'get', path: '/users', auth: true,
      async handle(req) {
        const q = parseOrThrow(UsersQuery, Object.fromEntries(req.query));
        const offset = (q.page - 1) * q.limit;
        const rows = q.search === '' ? await s.users.list(q.limit, offset) : await s.users.search(q.search, q.limit, offset);
        return json(200, rows);
      },
    },
  ];
}
