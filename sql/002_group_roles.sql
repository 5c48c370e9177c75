-- Group roles (protocol v1.1): owner, admin, member.
-- Access paths added:
--   member list, longest-standing first     group_members by (group_id, joined_at, user_id)
--   next owner when the owner leaves         the same index (admins first, then members)
--   role check inside a change's statement   group_members primary key (group_id, user_id)

ALTER TABLE group_members
  ADD COLUMN role text NOT NULL DEFAULT 'member'
  CONSTRAINT group_members_role_check CHECK (role IN ('owner', 'admin', 'member'));

-- At most one owner per group; a group whose last member left has none.
CREATE UNIQUE INDEX group_members_one_owner ON group_members (group_id) WHERE role = 'owner';
CREATE INDEX group_members_seniority_idx ON group_members (group_id, joined_at, user_id);

-- Existing groups: the creator owns the group while still a member; where the creator
-- left, the longest-standing member does.
UPDATE group_members gm SET role = 'owner'
FROM (
  SELECT DISTINCT ON (m.group_id) m.group_id, m.user_id
  FROM group_members m JOIN groups g ON g.id = m.group_id
  ORDER BY m.group_id, (m.user_id = g.created_by) DESC, m.joined_at, m.user_id
) first
WHERE gm.group_id = first.group_id AND gm.user_id = first.user_id;
